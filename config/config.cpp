// Loads the YAML configuration into the Config tree: parse, walk every section collecting all
// problems, then read the password file. Throws one ConfigError listing every problem.
#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>

#include "config/bounded_file.hpp"
#include "config/named_files.hpp"
#include "config/section_readers.hpp"
#include "config/topic_collisions.hpp"
#include "config/yaml_reader.hpp"

namespace pgcs::config {
namespace {

namespace fs = std::filesystem;

std::string describe(const std::vector<ConfigProblem>& problems) {
    std::string out;
    for (const ConfigProblem& problem : problems) {
        if (!out.empty()) {
            out += '\n';
        }
        out += problem.to_string();
    }
    return out;
}

[[noreturn]] void fail(std::vector<ConfigProblem> problems) {
    std::stable_sort(
        problems.begin(), problems.end(),
        [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
    throw ConfigError(std::move(problems));
}

// `config_dir` is set by load_config_file only: then password_file is read too.
Config load(std::string_view yaml, const std::string& file_name, const EnvLookup& env,
            const fs::path* config_dir) {
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(std::string(yaml));
    } catch (const YAML::Exception& e) {
        std::string where =
            e.mark.is_null() ? "" : " (column " + std::to_string(e.mark.column + 1) + ")";
        fail({ConfigProblem{file_name, detail::line_of(e.mark), "",
                            "YAML syntax error: " + e.msg + where + "; fix the file there"}});
    }
    if (documents.empty() || (documents.size() == 1 && documents[0].IsNull())) {
        fail({ConfigProblem{file_name, 1, "",
                            "the file is empty; it needs at least postgres.conninfo, "
                            "kafka.brokers and kafka.topic_prefix"}});
    }
    const YAML::Node& root = documents[0];
    if (!root.IsMap()) {
        fail({ConfigProblem{file_name, detail::line_of(root.Mark()), "",
                            "the top level must be a map with the sections postgres, kafka and "
                            "log, got " +
                                std::string(detail::kind_of(root))}});
    }

    detail::YamlReader reader(file_name, env);
    if (documents.size() > 1) {
        reader.problem(detail::line_of(documents[1].Mark()), "",
                       "a second YAML document starts here ('---'); put every setting in one "
                       "document");
    }
    Config config;
    auto top = reader.section_entries(root, "");
    int top_line = detail::line_of(root.Mark());
    detail::read_postgres(reader, detail::open_section(reader, top, "postgres", top_line),
                          config.postgres);
    detail::read_kafka(reader, detail::open_section(reader, top, "kafka", top_line), config.kafka);
    detail::read_buffer(reader, detail::open_section(reader, top, "buffer", top_line),
                        config.buffer);
    detail::read_reconnect(reader, detail::open_section(reader, top, "reconnect", top_line),
                           config.reconnect);
    detail::read_metrics(reader, detail::open_section(reader, top, "metrics", top_line),
                         config.metrics);
    detail::read_log(reader, detail::open_section(reader, top, "log", top_line), config.log);
    detail::read_snapshot(reader, detail::open_section(reader, top, "snapshot", top_line),
                          config.snapshot);
    detail::read_sink(reader, detail::open_section(reader, top, "sink", top_line), config.postgres,
                      config.sink);

    std::vector<ConfigProblem> problems = reader.take_problems();
    if (auto collision = detail::messages_topic_collision(config.kafka)) {
        const YAML::Node kafka = root["kafka"];
        const YAML::Node key = kafka.IsMap() ? kafka["messages_topic"] : YAML::Node();
        problems.push_back(
            {file_name, key ? detail::line_of(key.Mark()) : 0, "kafka.messages_topic", *collision});
    }
    if (auto collision = detail::progress_topic_collision(config.kafka)) {
        const YAML::Node kafka = root["kafka"];
        const YAML::Node key = kafka.IsMap() ? kafka["progress_topic"] : YAML::Node();
        problems.push_back(
            {file_name, key ? detail::line_of(key.Mark()) : 0, "kafka.progress_topic", *collision});
    }
    if (auto collision = detail::table_topic_collision(config.postgres, config.kafka)) {
        const YAML::Node postgres = root["postgres"];
        const YAML::Node key = postgres.IsMap() ? postgres["tables"] : YAML::Node();
        problems.push_back(
            {file_name, key ? detail::line_of(key.Mark()) : 0, "postgres.tables", *collision});
    }
    if (config_dir != nullptr) {
        detail::YamlReader files_reader(file_name, env);
        detail::read_named_files(
            files_reader, root, *config_dir, config, [&problems](std::string_view key) {
                return std::any_of(problems.begin(), problems.end(),
                                   [key](const ConfigProblem& p) { return p.key == key; });
            });
        for (ConfigProblem& problem : files_reader.take_problems()) {
            problems.push_back(std::move(problem));
        }
    }
    if (!problems.empty()) {
        fail(std::move(problems));
    }
    return config;
}

}  // namespace

std::string ConfigProblem::to_string() const {
    std::string out = file + ":" + std::to_string(line) + ": ";
    if (!key.empty()) {
        out += key + ": ";
    }
    return out + message;
}

ConfigError::ConfigError(std::vector<ConfigProblem> problems)
    : std::runtime_error(describe(problems)), problems_(std::move(problems)) {}

std::optional<std::string> process_env(const std::string& name) {
    if (const char* value = std::getenv(name.c_str())) {
        return std::string(value);
    }
    return std::nullopt;
}

Config load_config_string(std::string_view yaml, const std::string& file_name,
                          const EnvLookup& env) {
    return load(yaml, file_name, env, nullptr);
}

Config load_config_file(const std::string& path, const EnvLookup& env) {
    std::string error;
    std::optional<detail::FileText> file =
        detail::read_bounded_file(path, detail::kMaxConfigFileBytes, error);
    if (!file) {
        fail({ConfigProblem{path, 0, "",
                            "cannot read the configuration file: " + error +
                                "; check the path given to --config and the file's permissions"}});
    }
    fs::path config_dir = fs::path(path).parent_path();
    if (config_dir.empty()) {
        config_dir = ".";
    }
    return load(file->text, path, env, &config_dir);
}

namespace {

constexpr std::array<std::pair<std::string_view, SnapshotMode>, 4> kSnapshotModes = {{
    {"initial", SnapshotMode::Initial},
    {"never", SnapshotMode::Never},
    {"initial_only", SnapshotMode::InitialOnly},
    {"always", SnapshotMode::Always},
}};

}  // namespace

std::string_view snapshot_mode_name(SnapshotMode mode) {
    const auto* it = std::find_if(kSnapshotModes.begin(), kSnapshotModes.end(),
                                  [&](const auto& m) { return m.second == mode; });
    return it == kSnapshotModes.end() ? "?" : it->first;
}

std::optional<SnapshotMode> snapshot_mode_from_name(std::string_view name) {
    const auto* it = std::find_if(kSnapshotModes.begin(), kSnapshotModes.end(),
                                  [&](const auto& m) { return m.first == name; });
    return it == kSnapshotModes.end() ? std::nullopt : std::optional(it->second);
}

}  // namespace pgcs::config
