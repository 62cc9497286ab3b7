// Readers for the configuration sections (postgres, kafka, log): each takes a section's YAML
// entries, fills its part of the Config tree and records every problem in the YamlReader.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace pgcs::config::detail {

// A section as found in the file.
struct Section {
    std::string name;
    std::map<std::string, Entry, std::less<>> entries;  // known keys only
    bool present = false;                               // the file has the section's key
    bool usable = true;  // false when the section is not a map: its keys are not checked
    int line = 0;        // where a missing key is reported: the section's key, or the top map
};

// Finds section `name` among the top-level entries; `top_line` is the top-level map's line.
Section open_section(YamlReader& reader, const std::map<std::string, Entry, std::less<>>& top,
                     const std::string& name, int top_line);

// A list of schema.table names (postgres.tables, sink.tables): each parsed, duplicates
// reported; an empty value leaves both lists empty.
void read_table_list(YamlReader& reader, const Entry& entry, std::vector<std::string>& tables,
                     std::vector<TableName>& names);

// A whole number from `min` to `max` of `unit` ("milliseconds", "rows") at `key`, when present.
void optional_int_between(YamlReader& reader, const Section& section, std::string_view key, int min,
                          int max, std::string_view unit, int example, int& out);
void read_postgres(YamlReader& reader, const Section& section, PostgresConfig& out);
void read_kafka(YamlReader& reader, const Section& section, KafkaConfig& out);
// kafka.exactly_once and the keys that apply to it only.
void read_exactly_once(YamlReader& reader, const Section& section, KafkaConfig& out);
void read_buffer(YamlReader& reader, const Section& section, BufferConfig& out);
void read_log(YamlReader& reader, const Section& section, LogConfig& out);
void read_reconnect(YamlReader& reader, const Section& section, ReconnectConfig& out);
void read_snapshot(YamlReader& reader, const Section& section, SnapshotConfig& out);
void read_metrics(YamlReader& reader, const Section& section, MetricsConfig& out);
// Only when the section is present; `postgres` is read first (sink.tables must be among its
// tables when it lists them).
void read_sink(YamlReader& reader, const Section& section, const PostgresConfig& postgres,
               SinkConfig& out);

}  // namespace pgcs::config::detail
