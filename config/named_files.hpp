// The files a configuration names besides itself, read once the file parsed:
// postgres.password_file, kafka.sasl_password_file (its first line becomes the librdkafka
// property sasl.password) and metrics.web_config_file (config/web_config.hpp). A relative path
// starts from the config file's folder. Also the warning for a metrics endpoint open to other
// hosts without TLS or basic auth.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace pgcs::config::detail {

// Records a problem on `reader` for each file that cannot be used; warnings go to
// config.warnings. `skip(key)`: that key already has a problem (do not read its file).
void read_named_files(YamlReader& reader, const YAML::Node& root,
                      const std::filesystem::path& config_dir, Config& config,
                      const std::function<bool(std::string_view)>& skip);

// The metrics endpoint listens beyond this host without TLS or basic auth: the warning, else "".
std::string open_metrics_warning(const MetricsConfig& metrics);

}  // namespace pgcs::config::detail
