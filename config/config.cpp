// Loads the YAML configuration into the Config tree: parse, walk every section collecting all
// problems, then read the password file. Throws one ConfigError listing every problem.
#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>

#include "config/bounded_file.hpp"
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

// Sets postgres.password from the first line of postgres.password_file, resolved against
// `config_dir` when relative; warns, as libpq does for ~/.pgpass, when others may read it.
void read_password_file(detail::YamlReader& reader, const YAML::Node& root,
                        const fs::path& config_dir, PostgresConfig& pg,
                        std::vector<std::string>& warnings) {
    int line = 0;
    if (root.IsMap() && root["postgres"].IsMap()) {
        line = detail::line_of(root["postgres"]["password_file"].Mark());
    }
    fs::path path(pg.password_file);
    if (path.is_relative()) {
        path = config_dir / path;
    }
    pg.password_file = path.string();
    std::string error;
    std::optional<detail::FileText> file =
        detail::read_bounded_file(path.string(), detail::kMaxPasswordFileBytes, error);
    if (!file) {
        reader.problem(line, "postgres.password_file",
                       "cannot read the password file '" + path.string() + "': " + error +
                           "; put the password on the first line of that file, or fix the path "
                           "(a relative path starts from the config file's folder)");
        return;
    }
    if ((file->mode & 077) != 0) {
        warnings.push_back("the password file '" + path.string() +
                           "' is readable or writable by group or others; make it private: "
                           "chmod 600 (owned by the daemon's user), or under systemd use "
                           "LoadCredential= and password_file: ${CREDENTIALS_DIRECTORY}/NAME");
    }
    std::string password = file->text.substr(0, file->text.find('\n'));
    if (!password.empty() && password.back() == '\r') {
        password.pop_back();
    }
    if (password.empty()) {
        reader.problem(line, "postgres.password_file",
                       "the password file '" + path.string() +
                           "' has an empty first line; put the password on its first line");
        return;
    }
    pg.password = std::move(password);
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
    if (auto collision = detail::table_topic_collision(config.postgres, config.kafka)) {
        const YAML::Node postgres = root["postgres"];
        const YAML::Node key = postgres.IsMap() ? postgres["tables"] : YAML::Node();
        problems.push_back(
            {file_name, key ? detail::line_of(key.Mark()) : 0, "postgres.tables", *collision});
    }
    if (config_dir != nullptr && !config.postgres.password_file.empty() &&
        std::none_of(problems.begin(), problems.end(),
                     [](const ConfigProblem& p) { return p.key == "postgres.password_file"; })) {
        detail::YamlReader password_reader(file_name, env);
        read_password_file(password_reader, root, *config_dir, config.postgres, config.warnings);
        for (ConfigProblem& problem : password_reader.take_problems()) {
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
