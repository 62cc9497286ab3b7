// SQL text for mirror mode: the statements that make a target table hold the source table's
// current rows, from parsed events. Pure: events in, SQL out; the MirrorApplier runs them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/apply/sink_event.hpp"

namespace pgcs::apply {

std::string quote_ident(std::string_view name);
// The column's type from the event's `types` ("text" when it is not there).
std::string_view column_type(const SinkEvent& event, std::string_view column);
std::string quote_literal(std::string_view text);
// "schema"."table"
std::string qualified_name(std::string_view schema, std::string_view table);

// A column value as an SQL expression of `type`: NULL::type, decode('..','base64') for bytea,
// else 'text'::type.
std::string value_sql(const ColumnValue& value, std::string_view type);

// CREATE SCHEMA/TABLE IF NOT EXISTS from the event's types, primary key = the key's columns.
std::string create_table_sql(const SinkEvent& event);
std::string add_column_sql(const SinkEvent& event, const ColumnType& column);

// read/added/modified: INSERT the columns of `after` ON CONFLICT (key) DO UPDATE them; columns
// absent from `after` (unchanged TOAST under REPLICA IDENTITY DEFAULT/INDEX) keep the target's.
std::string upsert_sql(const SinkEvent& event);
std::string delete_sql(const SinkEvent& event);

// Several rows in one statement (MirrorBatch): "(v1, v2)" of `row`, whose i-th value has the
// type of columns[i]; the INSERT ... VALUES `rows` ON CONFLICT (key) DO UPDATE of `columns`
// (rows joined by ", "); the DELETE of the keys `keys` ("(k1, k2), ..." of `key_columns`).
std::string row_values_sql(const std::vector<ColumnValue>& row,
                           const std::vector<ColumnType>& columns);
std::string upsert_rows_sql(std::string_view schema, std::string_view table,
                            const std::vector<ColumnType>& columns,
                            const std::vector<std::string>& key_names, std::string_view rows);
std::string delete_rows_sql(std::string_view schema, std::string_view table,
                            const std::vector<ColumnType>& key_columns, std::string_view keys);

// COPY text format: appends `row` as one line (tab-separated, \N for NULL, backslash escapes;
// bytea as its base64 text: the staging column is text, see merge_staged_sql).
void copy_row(const std::vector<ColumnValue>& row, const std::vector<ColumnType>& columns,
              std::string& out);
// The staging table of a run's columns (bytea as text), the COPY into it, and the INSERT ...
// SELECT from it ON CONFLICT (key) DO UPDATE that merges it into schema.table, then empties it.
std::string create_staging_sql(std::string_view staging, const std::vector<ColumnType>& columns);
std::string copy_staging_sql(std::string_view staging, const std::vector<ColumnType>& columns);
std::string merge_staged_sql(std::string_view staging, std::string_view schema,
                             std::string_view table, const std::vector<ColumnType>& columns,
                             const std::vector<std::string>& key_names);
std::string truncate_sql(std::string_view schema, std::string_view table);

}  // namespace pgcs::apply
