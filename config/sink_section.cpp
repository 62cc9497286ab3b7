// The sink section (`pgchangeset sink`, `pgchangeset history`): read only when the file has
// it; `run` never looks at it. See section_readers.hpp.
#include <array>

#include "config/conninfo_rules.hpp"
#include "config/section_readers.hpp"

namespace pgcs::config::detail {
namespace {

const Entry* find(const Section& section, std::string_view key) {
    auto it = section.entries.find(key);
    return it == section.entries.end() ? nullptr : &it->second;
}

void read_conninfo(YamlReader& reader, const Section& section, SinkConfig& out) {
    const Entry* entry = find(section, "conninfo");
    if (entry == nullptr || entry->value.IsNull()) {
        reader.problem(entry == nullptr ? section.line : entry->key_line(), "sink.conninfo",
                       "required key is missing; give the target PostgreSQL's libpq connection "
                       "string under 'sink:', e.g. conninfo: \"host=warehouse dbname=app_copy\"");
        return;
    }
    std::optional<std::string> conninfo = reader.text(*entry, Expansion::Conninfo);
    if (!conninfo) {
        return;
    }
    if (conninfo->find_first_not_of(" \t") == std::string::npos) {
        reader.problem(entry->value_line(), "sink.conninfo",
                       "must not be empty; give a libpq connection string, e.g. "
                       "\"host=warehouse dbname=app_copy\"");
    } else if (std::optional<std::string> error = check_conninfo(*conninfo)) {
        reader.problem(entry->value_line(), "sink.conninfo", std::move(*error));
    } else {
        out.conninfo = std::move(*conninfo);
    }
}

void read_group_id(YamlReader& reader, const Section& section, SinkConfig& out) {
    const Entry* entry = find(section, "group_id");
    if (entry == nullptr) {
        return;
    }
    std::optional<std::string> value = reader.text(*entry);
    if (!value) {
        return;
    }
    for (char c : *value) {
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
            reader.problem(entry->value_line(), entry->path,
                           "'" + *value +
                               "' contains a space or a control character; name the Kafka "
                               "consumer group with letters, digits, '.', '_' and '-'");
            return;
        }
    }
    out.group_id = std::move(*value);
}

}  // namespace

void read_sink(YamlReader& reader, const Section& section, const PostgresConfig& postgres,
               SinkConfig& out) {
    if (!section.present) {
        return;
    }
    out.present = true;
    if (!section.usable) {
        return;  // not a map: reported by open_section's reader
    }
    read_conninfo(reader, section, out);
    static constexpr std::array<std::pair<std::string_view, SinkMode>, 2> kModes = {
        {{"mirror", SinkMode::Mirror}, {"history", SinkMode::History}}};
    if (const Entry* mode = find(section, "mode")) {
        optional_choice(reader, *mode, kModes, out.mode);
    }
    read_group_id(reader, section, out);
    if (const Entry* tables = find(section, "tables")) {
        read_table_list(reader, *tables, out.tables, out.table_names);
        if (!postgres.table_names.empty()) {
            for (std::size_t i = 0; i < out.table_names.size(); ++i) {
                bool captured = false;
                for (const TableName& name : postgres.table_names) {
                    captured = captured || name == out.table_names[i];
                }
                if (!captured) {
                    reader.problem(tables->key_line(), "sink.tables[" + std::to_string(i) + "]",
                                   "'" + out.tables[i] +
                                       "' is not in postgres.tables, so the pipeline has no "
                                       "topic for it; add it there or remove it here");
                }
            }
        }
    }
    optional_int_between(reader, section, "batch_rows", 1, 1000000, "events", 5000, out.batch_rows);
    optional_int_between(reader, section, "batch_time_ms", 1, 60000, "milliseconds", 200,
                         out.batch_time_ms);
}

}  // namespace pgcs::config::detail
