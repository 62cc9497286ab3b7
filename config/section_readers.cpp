// Readers for the configuration sections; see section_readers.hpp.
#include "config/section_readers.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include "config/conninfo_rules.hpp"
#include "config/debezium_section.hpp"
#include "config/kafka_properties.hpp"
#include "config/value_rules.hpp"

namespace pgcs::config::detail {
namespace {

const Entry* find(const Section& section, std::string_view key) {
    auto it = section.entries.find(key);
    return it == section.entries.end() ? nullptr : &it->second;
}

// A required text value: reports it when missing, empty or of the wrong kind.
std::optional<std::string> required_text(YamlReader& reader, const Section& section,
                                         std::string_view key, std::string_view example,
                                         Expansion how = Expansion::Plain) {
    std::string path = section.name + "." + std::string(key);
    const Entry* entry = find(section, key);
    if (entry == nullptr) {
        if (section.usable) {
            reader.problem(section.line, path,
                           "required key is missing; add it " +
                               (section.present ? "under '" + section.name + ":'"
                                                : "in a '" + section.name + ":' section") +
                               ", e.g. " + std::string(key) + ": " + std::string(example));
        }
        return std::nullopt;
    }
    if (entry->value.IsNull()) {
        reader.problem(
            entry->key_line(), path,
            "has no value but is required; e.g. " + std::string(key) + ": " + std::string(example));
        return std::nullopt;
    }
    return reader.text(*entry, how);
}

// An optional text value checked by `rule`; `out` keeps its default when the key is absent.
template <typename Rule>
void optional_text(YamlReader& reader, const Section& section, std::string_view key,
                   std::string& out, Rule rule) {
    const Entry* entry = find(section, key);
    if (entry == nullptr) {
        return;
    }
    std::optional<std::string> value = reader.text(*entry);
    if (!value) {
        return;
    }
    if (std::optional<std::string> error = rule(*value)) {
        reader.problem(entry->value_line(), entry->path, std::move(*error));
        return;
    }
    out = std::move(*value);
}

void optional_int(YamlReader& reader, const Section& section, std::string_view key, int& out) {
    if (const Entry* entry = find(section, key)) {
        if (std::optional<int> value = reader.positive_int(*entry)) {
            out = *value;
        }
    }
}

}  // namespace

void optional_int_between(YamlReader& reader, const Section& section, std::string_view key, int min,
                          int max, std::string_view unit, int example, int& out) {
    const Entry* entry = find(section, key);
    if (entry == nullptr) {
        return;
    }
    std::optional<std::string> value = reader.text(*entry);
    if (!value) {
        return;
    }
    int number = 0;
    const char* end = value->data() + value->size();
    auto [ptr, ec] = std::from_chars(value->data(), end, number);
    if (value->empty() || ptr != end || ec != std::errc()) {
        reader.problem(entry->value_line(), entry->path,
                       "'" + *value + "' is not a whole number; give " + std::string(unit) +
                           " as digits, e.g. " + std::to_string(example));
        return;
    }
    if (number < min || number > max) {
        reader.problem(entry->value_line(), entry->path,
                       std::string(number < min ? "must be at least " : "must be at most ") +
                           std::to_string(number < min ? min : max) + ", got " + *value);
        return;
    }
    out = number;
}

namespace {

// Milliseconds, at least `min` (which may be 0).
void optional_int_at_least(YamlReader& reader, const Section& section, std::string_view key,
                           int min, int& out) {
    optional_int_between(reader, section, key, min, std::numeric_limits<int>::max(), "milliseconds",
                         std::max(min, 1000), out);
}

std::optional<bool> yaml_bool(const YAML::Node& value);

void optional_bool(YamlReader& reader, const Section& section, std::string_view key, bool& out) {
    const Entry* entry = find(section, key);
    if (entry == nullptr) {
        return;
    }
    if (std::optional<bool> b = entry->value.IsScalar() ? yaml_bool(entry->value) : std::nullopt) {
        out = *b;
        return;
    }
    reader.problem(entry->value_line(), entry->path, "expected true or false");
}

}  // namespace

void read_table_list(YamlReader& reader, const Entry& entry, std::vector<std::string>& tables,
                     std::vector<TableName>& names) {
    if (entry.value.IsNull()) {
        return;  // same as leaving the key out: every table of the publication
    }
    if (!entry.value.IsSequence()) {
        reader.problem(entry.key_line(), entry.path,
                       "expected a list of schema.table names, e.g. [public.users, "
                       "public.orders], got " +
                           std::string(kind_of(entry.value)));
        return;
    }
    std::size_t index = 0;
    for (const YAML::Node& item : entry.value) {
        std::string path = entry.path + "[" + std::to_string(index++) + "]";
        int line = line_of(item.Mark());
        if (item.IsNull()) {
            line = entry.key_line();  // an empty item has no position of its own
        }
        std::optional<std::string> text = reader.text(item, path, line);
        if (!text) {
            continue;
        }
        std::string error;
        std::optional<TableName> name = parse_table_name(*text, error);
        if (!name) {
            reader.problem(line, path, std::move(error));
            continue;
        }
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (names[i] == *name) {
                reader.problem(
                    line, path,
                    "'" + *text + "' is listed twice (also as '" + tables[i] + "'); remove one");
                name.reset();
                break;
            }
        }
        if (name) {
            tables.push_back(std::move(*text));
            names.push_back(std::move(*name));
        }
    }
}

namespace {

// YAML 1.1 reads these plain words as booleans; librdkafka wants "true" or "false".
std::optional<std::string> yaml_bool_text(const YAML::Node& value) {
    static constexpr std::array<std::string_view, 9> kTrue = {"true", "True", "TRUE", "yes", "Yes",
                                                              "YES",  "on",   "On",   "ON"};
    static constexpr std::array<std::string_view, 9> kFalse = {
        "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    if (value.Tag() != "?") {
        return std::nullopt;  // quoted, or explicitly tagged: passed exactly as written
    }
    for (std::string_view word : kTrue) {
        if (value.Scalar() == word) {
            return "true";
        }
    }
    for (std::string_view word : kFalse) {
        if (value.Scalar() == word) {
            return "false";
        }
    }
    return std::nullopt;
}

std::optional<bool> yaml_bool(const YAML::Node& value) {
    std::optional<std::string> text = yaml_bool_text(value);
    if (!text) {
        return std::nullopt;
    }
    return *text == "true";
}

void read_properties(YamlReader& reader, const Entry& entry, KafkaConfig& out) {
    if (entry.value.IsNull()) {
        return;
    }
    if (!entry.value.IsMap()) {
        reader.problem(entry.key_line(), entry.path,
                       "expected a map of librdkafka properties (name: value lines), got " +
                           std::string(kind_of(entry.value)));
        return;
    }
    for (const Entry& property : reader.entries(entry.value, entry.path)) {
        if (property.name.empty()) {
            reader.problem(property.key_line(), property.path, "a property name must not be empty");
            continue;
        }
        std::optional<std::string> value;
        if (property.value.IsScalar()) {
            value = yaml_bool_text(property.value);
        }
        if (!value) {
            value = reader.text(property);
        }
        if (!value) {
            continue;
        }
        if (std::optional<std::string> error = check_kafka_property(property.name, *value)) {
            reader.problem(property.value_line(), property.path, std::move(*error));
            continue;
        }
        out.properties.emplace_back(property.name, std::move(*value));
    }
}

}  // namespace

Section open_section(YamlReader& reader, const std::map<std::string, Entry, std::less<>>& top,
                     const std::string& name, int top_line) {
    Section section{name, {}, false, true, top_line};
    auto it = top.find(name);
    if (it == top.end()) {
        return section;
    }
    section.present = true;
    section.line = it->second.key_line();
    if (reader.is_section(it->second)) {
        section.entries = reader.section_entries(it->second.value, name);
    } else if (!it->second.value.IsNull()) {
        section.usable = false;
    }
    return section;
}

void read_postgres(YamlReader& reader, const Section& section, PostgresConfig& out) {
    if (std::optional<std::string> conninfo =
            required_text(reader, section, "conninfo", "\"host=db.internal dbname=app user=cdc\"",
                          Expansion::Conninfo)) {
        if (conninfo->find_first_not_of(" \t") == std::string::npos) {
            reader.problem(find(section, "conninfo")->value_line(), "postgres.conninfo",
                           "must not be empty; give a libpq connection string, e.g. "
                           "\"host=db.internal dbname=app user=cdc\"");
        } else if (std::optional<std::string> error = check_conninfo(*conninfo)) {
            reader.problem(find(section, "conninfo")->value_line(), "postgres.conninfo",
                           std::move(*error));
        } else {
            out.conninfo = std::move(*conninfo);
        }
    }
    optional_text(reader, section, "password_file", out.password_file,
                  [](const std::string& path) -> std::optional<std::string> {
                      if (path.empty()) {
                          return "is empty; name the file that holds the password, or remove "
                                 "the key";
                      }
                      return std::nullopt;
                  });
    optional_text(reader, section, "slot", out.slot, check_slot_name);
    optional_text(reader, section, "publication", out.publication, check_publication_name);
    if (const Entry* tables = find(section, "tables")) {
        read_table_list(reader, *tables, out.tables, out.table_names);
    }
    optional_int(reader, section, "status_interval_ms", out.status_interval_ms);
    optional_bool(reader, section, "create_publication", out.create_publication);
    optional_bool(reader, section, "create_slot", out.create_slot);
    optional_int_at_least(reader, section, "heartbeat_interval_ms", 0, out.heartbeat_interval_ms);
    optional_int_at_least(reader, section, "read_timeout_ms", 1000, out.read_timeout_ms);
    optional_bool(reader, section, "streaming", out.streaming);
    optional_bool(reader, section, "binary", out.binary);
    optional_bool(reader, section, "messages", out.messages);
    optional_bool(reader, section, "publish_via_partition_root", out.publish_via_partition_root);
    optional_bool(reader, section, "failover", out.failover);
}

void read_buffer(YamlReader& reader, const Section& section, BufferConfig& out) {
    if (const Entry* entry = find(section, "memory_limit")) {
        if (std::optional<std::string> value = reader.text(*entry)) {
            std::uint64_t bytes = 0;
            if (std::optional<std::string> error = parse_byte_size(*value, bytes)) {
                reader.problem(entry->value_line(), entry->path, std::move(*error));
            } else {
                out.memory_limit_bytes = bytes;
            }
        }
    }
    optional_text(reader, section, "spill_directory", out.spill_directory,
                  [](const std::string& path) -> std::optional<std::string> {
                      if (path.empty() || path[0] != '/') {
                          return "must be an absolute path to a writable folder, e.g. /var/tmp";
                      }
                      return std::nullopt;
                  });
}

void read_kafka(YamlReader& reader, const Section& section, KafkaConfig& out) {
    if (std::optional<std::string> brokers =
            required_text(reader, section, "brokers", "\"kafka-1:9092,kafka-2:9092\"")) {
        if (std::optional<std::string> error = check_brokers(*brokers)) {
            reader.problem(find(section, "brokers")->value_line(), "kafka.brokers",
                           std::move(*error));
        } else {
            out.brokers = std::move(*brokers);
        }
    }
    if (std::optional<std::string> prefix = required_text(reader, section, "topic_prefix", "app")) {
        if (std::optional<std::string> error = check_topic_prefix(*prefix)) {
            reader.problem(find(section, "topic_prefix")->value_line(), "kafka.topic_prefix",
                           std::move(*error));
        } else {
            out.topic_prefix = std::move(*prefix);
        }
    }
    if (const Entry* properties = find(section, "properties")) {
        read_properties(reader, *properties, out);
    }
    optional_int(reader, section, "flush_timeout_ms", out.flush_timeout_ms);
    optional_text(reader, section, "sasl_password_file", out.sasl_password_file,
                  [](const std::string& path) -> std::optional<std::string> {
                      if (path.empty()) {
                          return "is empty; name the file whose first line is the SASL "
                                 "password, or remove the key";
                      }
                      return std::nullopt;
                  });
    optional_text(reader, section, "messages_topic", out.messages_topic, check_topic_name);
    optional_bool(reader, section, "tombstones", out.tombstones);
    static constexpr std::array<std::pair<std::string_view, EventFormat>, 2> kFormats = {
        {{"native", EventFormat::Native}, {"debezium", EventFormat::Debezium}}};
    if (const Entry* format = find(section, "format")) {
        optional_choice(reader, *format, kFormats, out.format);
    }
    optional_bool(reader, section, "schemas", out.schemas);
    const Entry* schemas = find(section, "schemas");
    if (schemas != nullptr && out.schemas && out.format != EventFormat::Debezium) {
        reader.problem(schemas->key_line(), schemas->path,
                       "applies to kafka.format: debezium only (JsonConverter's schema and "
                       "payload); set format: debezium or remove schemas");
    }
    read_exactly_once(reader, section, out);
    if (const Entry* debezium = find(section, "debezium")) {
        if (out.format != EventFormat::Debezium) {
            reader.problem(debezium->key_line(), debezium->path,
                           "applies to kafka.format: debezium only; set format: debezium or "
                           "remove this section");
        } else {
            read_debezium(reader, *debezium, out.debezium);
        }
    }
}

void read_exactly_once(YamlReader& reader, const Section& section, KafkaConfig& out) {
    optional_bool(reader, section, "exactly_once", out.exactly_once);
    optional_text(reader, section, "progress_topic", out.progress_topic, check_topic_name);
    optional_int_between(reader, section, "transaction_ms", 1, 60000, "milliseconds", 20,
                         out.transaction_ms);
    optional_int_between(reader, section, "transaction_max_events", 1, 10000000, "events", 100000,
                         out.transaction_max_events);
    if (out.exactly_once) {
        return;
    }
    for (std::string_view key : {"progress_topic", "transaction_ms", "transaction_max_events"}) {
        if (const Entry* entry = find(section, key)) {
            reader.problem(entry->key_line(), entry->path,
                           "applies to kafka.exactly_once: true only; set exactly_once: true or "
                           "remove this key");
        }
    }
}

void read_log(YamlReader& reader, const Section& section, LogConfig& out) {
    optional_text(reader, section, "level", out.level, check_log_level);
}

void read_reconnect(YamlReader& reader, const Section& section, ReconnectConfig& out) {
    optional_int(reader, section, "initial_backoff_ms", out.initial_backoff_ms);
    optional_int(reader, section, "max_backoff_ms", out.max_backoff_ms);
    optional_int(reader, section, "halted_retry_ms", out.halted_retry_ms);
    if (out.max_backoff_ms < out.initial_backoff_ms) {
        const Entry* entry = find(section, "max_backoff_ms");
        reader.problem(entry != nullptr ? entry->value_line() : section.line,
                       "reconnect.max_backoff_ms",
                       "must be at least reconnect.initial_backoff_ms (" +
                           std::to_string(out.initial_backoff_ms) + ")");
    }
}

void read_metrics(YamlReader& reader, const Section& section, MetricsConfig& out) {
    optional_text(reader, section, "listen", out.listen, check_listen_address);
    optional_text(reader, section, "web_config_file", out.web_config_file,
                  [](const std::string& path) -> std::optional<std::string> {
                      if (path.empty()) {
                          return "is empty; name the web config file (TLS, basic auth), or "
                                 "remove the key";
                      }
                      return std::nullopt;
                  });
    if (const Entry* entry = find(section, "ready_max_lag_seconds")) {
        std::optional<std::string> value = reader.text(*entry);
        double number = 0;
        if (value) {
            const char* end = value->data() + value->size();
            auto [ptr, ec] = std::from_chars(value->data(), end, number);
            if (value->empty() || ptr != end || ec != std::errc() || !(number > 0)) {
                reader.problem(entry->value_line(), entry->path,
                               "'" + *value + "' is not a number of seconds above zero, e.g. 60");
            } else {
                out.ready_max_lag_seconds = number;
            }
        }
    }
}

void read_snapshot(YamlReader& reader, const Section& section, SnapshotConfig& out) {
    if (const Entry* entry = find(section, "mode")) {
        if (std::optional<std::string> value = reader.text(*entry)) {
            const std::optional<SnapshotMode> mode = snapshot_mode_from_name(*value);
            if (!mode) {
                reader.problem(entry->value_line(), entry->path,
                               "'" + *value +
                                   "' is not a snapshot mode; use one of initial (when the slot "
                                   "is created), never, initial_only (snapshot, then exit), "
                                   "always (every start)");
            } else {
                out.mode = *mode;
            }
        }
    }
    optional_int_between(reader, section, "chunk_size", 1, 1000000, "rows", 10000, out.chunk_size);
    optional_int_between(reader, section, "connections", 1, 16, "connections", 2, out.connections);
    if (const Entry* entry = find(section, "table")) {
        if (std::optional<std::string> value = reader.text(*entry)) {
            std::string error;
            if (std::optional<TableName> name = parse_table_name(*value, error)) {
                out.table = *value;
                out.table_name = *name;
            } else {
                reader.problem(entry->value_line(), entry->path, std::move(error));
            }
        }
    }
}

}  // namespace pgcs::config::detail
