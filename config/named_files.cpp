// Reading the secret and web config files a configuration names (named_files.hpp).
#include "config/named_files.hpp"

#include <optional>

#include "config/bounded_file.hpp"

namespace pgcs::config::detail {

namespace fs = std::filesystem;

namespace {

int line_of_key(const YAML::Node& root, const char* section, const char* key) {
    if (root.IsMap() && root[section].IsMap() && root[section][key]) {
        return line_of(root[section][key].Mark());
    }
    return 0;
}

// The first line of the file at `path` (a secret: never quoted in a message), or std::nullopt
// with a problem recorded on `key`; warns, as libpq does for ~/.pgpass, when others may read it.
std::optional<std::string> read_secret(YamlReader& reader, int line, const std::string& key,
                                       const std::string& path, const std::string& advice,
                                       std::vector<std::string>& warnings) {
    std::string error;
    std::optional<FileText> file = read_bounded_file(path, kMaxPasswordFileBytes, error);
    if (!file) {
        reader.problem(line, key,
                       "cannot read the password file '" + path + "': " + error + "; " + advice +
                           ", or fix the path (a relative path starts from the config file's "
                           "folder)");
        return std::nullopt;
    }
    if ((file->mode & 077) != 0) {
        warnings.push_back("the password file '" + path +
                           "' is readable or writable by group or others; make it private: "
                           "chmod 600 (owned by the daemon's user), or under systemd use "
                           "LoadCredential= and " +
                           key + ": ${CREDENTIALS_DIRECTORY}/NAME");
    }
    std::string secret = file->text.substr(0, file->text.find('\n'));
    if (!secret.empty() && secret.back() == '\r') {
        secret.pop_back();
    }
    if (secret.empty()) {
        reader.problem(line, key,
                       "the password file '" + path + "' has an empty first line; " + advice);
        return std::nullopt;
    }
    return secret;
}

std::string resolved(const std::string& path, const fs::path& config_dir) {
    const fs::path p(path);
    return p.is_relative() ? (config_dir / p).string() : path;
}

}  // namespace

void read_named_files(YamlReader& reader, const YAML::Node& root, const fs::path& config_dir,
                      Config& config, const std::function<bool(std::string_view)>& skip) {
    PostgresConfig& pg = config.postgres;
    if (!pg.password_file.empty() && !skip("postgres.password_file")) {
        pg.password_file = resolved(pg.password_file, config_dir);
        if (auto pw =
                read_secret(reader, line_of_key(root, "postgres", "password_file"),
                            "postgres.password_file", pg.password_file,
                            "put the password on the first line of that file", config.warnings)) {
            pg.password = std::move(*pw);
        }
    }
    KafkaConfig& kafka = config.kafka;
    if (!kafka.sasl_password_file.empty() && !skip("kafka.sasl_password_file")) {
        const int line = line_of_key(root, "kafka", "sasl_password_file");
        kafka.sasl_password_file = resolved(kafka.sasl_password_file, config_dir);
        bool in_properties = false;
        for (const auto& [name, value] : kafka.properties) {
            in_properties = in_properties || name == "sasl.password";
        }
        if (in_properties) {
            reader.problem(line, "kafka.sasl_password_file",
                           "kafka.properties sets sasl.password too; keep one of the two (the "
                           "file keeps the secret out of the config and the environment)");
        } else if (auto pw = read_secret(
                       reader, line, "kafka.sasl_password_file", kafka.sasl_password_file,
                       "put the SASL password on the first line of that file", config.warnings)) {
            kafka.properties.emplace_back("sasl.password", std::move(*pw));
        }
    }
    MetricsConfig& metrics = config.metrics;
    if (!metrics.web_config_file.empty() && !skip("metrics.web_config_file")) {
        const int line = line_of_key(root, "metrics", "web_config_file");
        metrics.web_config_file = resolved(metrics.web_config_file, config_dir);
        std::string error;
        std::optional<FileText> file =
            read_bounded_file(metrics.web_config_file, kMaxConfigFileBytes, error);
        std::optional<std::string> problem;
        if (!file) {
            problem = "cannot read '" + metrics.web_config_file + "': " + error;
        } else {
            problem = parse_web_config(
                file->text, fs::path(metrics.web_config_file).parent_path().string(), metrics.web);
        }
        if (!problem && metrics.web.tls()) {
            problem = civetweb_tls_problem();
        }
        if (problem) {
            reader.problem(line, "metrics.web_config_file",
                           *problem + " (the web config file, README \"Metrics and health\")");
        } else if (metrics.listen.empty()) {
            reader.problem(line, "metrics.web_config_file",
                           "applies to the metrics endpoint, and metrics.listen is not set; set "
                           "it or remove metrics.web_config_file");
        }
    }
    if (std::string warning = open_metrics_warning(metrics); !warning.empty()) {
        config.warnings.push_back(std::move(warning));
    }
}

std::string open_metrics_warning(const MetricsConfig& metrics) {
    const auto colon = metrics.listen.rfind(':');
    if (metrics.listen.empty() || colon == std::string::npos ||
        is_loopback_host(metrics.listen.substr(0, colon)) ||
        (metrics.web.tls() && metrics.web.basic_auth())) {
        return "";
    }
    const char* missing = metrics.web.tls()          ? "basic auth"
                          : metrics.web.basic_auth() ? "TLS"
                                                     : "TLS or basic auth";
    return "metrics.listen " + metrics.listen + " accepts connections from other hosts without " +
           missing +
           ": anyone who reaches the port reads the metrics (table names, lag, errors); set "
           "metrics.web_config_file (README \"Metrics and health\") or listen on 127.0.0.1";
}

}  // namespace pgcs::config::detail
