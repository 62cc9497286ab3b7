// SQL text for mirror mode: the statements that make a target table hold the source table's
// current rows, from parsed events. Pure: events in, SQL out; the MirrorApplier runs them.
#pragma once

#include <string>
#include <string_view>

#include "core/apply/sink_event.hpp"

namespace pgcs::apply {

std::string quote_ident(std::string_view name);
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
std::string truncate_sql(std::string_view schema, std::string_view table);

}  // namespace pgcs::apply
