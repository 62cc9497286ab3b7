// SQL text for history mode: the schema of pgchangeset_history (one table of versions per source
// table, a registry of them, a view of the current rows in pgchangeset_current) and the
// statements that add a version. Pure: values in, SQL out; the HistoryApplier runs them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/apply/history_version.hpp"

namespace pgcs::apply {

// The registry pgchangeset_history.tables(source_schema, source_table, history_table, columns)
// and the two schemas.
extern const char* const kHistoryRegistryDdl;

// "<schema>__<table>": the name of the history table (in pgchangeset_history) and of the view
// of current rows (in pgchangeset_current); std::nullopt when longer than PostgreSQL's 63 bytes.
std::optional<std::string> history_table_name(std::string_view schema, std::string_view table);

// CREATE TABLE of the versions, its indexes and the view, for a table that does not exist yet.
std::string create_history_sql(const std::string& name);

// What a version adds: the previous version of `key_json` closed (valid_to; not when
// `first`, the key having none), the version inserted (ON CONFLICT on (key, commit_lsn, seq)
// DO NOTHING, so a repeat changes nothing).
std::string add_version_sql(const std::string& name, const std::string& key_json,
                            const HistoryVersion& version, const std::string& prev_key,
                            const std::string& next_key, bool first = false);

// A TRUNCATE at `version`'s position: every current row closed with a `truncated` version
// holding that row.
std::string truncate_history_sql(const std::string& name, const HistoryVersion& version);

// Adds each of `columns` to the rows of the versions of `key` from `from` on that lack it (a
// TOAST value nobody sent, known only from the old key of a key change applied later).
std::string fill_columns_sql(const std::string& name, const std::string& key_json,
                             const EventPosition& from, const JsonRow& columns);

// Sets `column` (next_key, changed) of the version of `key` at `position`; `value` is JSON.
std::string set_version_sql(const std::string& name, const std::string& key_json,
                            const EventPosition& position, const char* column,
                            const std::string& value);

// text[] literal of `items`, e.g. ARRAY['a','b']::text[].
std::string text_array_sql(const std::vector<std::string>& items);

}  // namespace pgcs::apply
