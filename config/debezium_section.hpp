// The kafka.debezium section: Debezium connector property names, as a Debezium configuration
// spells them, for `kafka.format: debezium`.
#pragma once

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace pgcs::config::detail {

void read_debezium(YamlReader& reader, const Entry& entry, DebeziumConfig& out);

}  // namespace pgcs::config::detail
