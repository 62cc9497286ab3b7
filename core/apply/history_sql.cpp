// SQL text for history mode; see history_sql.hpp.
#include "core/apply/history_sql.hpp"

#include "core/apply/mirror_sql.hpp"

namespace pgcs::apply {
namespace {

std::string table_sql(const std::string& name) {
    return "pgchangeset_history." + quote_ident(name);
}

std::string jsonb_sql(const std::string& json) {
    return json.empty() ? std::string("NULL::jsonb") : quote_literal(json) + "::jsonb";
}

std::string position_sql(const EventPosition& p) {
    return "(" + quote_literal(format_lsn(p.commit_lsn)) + "::pg_lsn, " + std::to_string(p.seq) +
           "::bigint)";
}

}  // namespace

const char* const kHistoryRegistryDdl =
    "CREATE SCHEMA IF NOT EXISTS pgchangeset_history;"
    "CREATE SCHEMA IF NOT EXISTS pgchangeset_current;"
    "CREATE TABLE IF NOT EXISTS pgchangeset_history.tables ("
    " source_schema text NOT NULL, source_table text NOT NULL,"
    " history_table text NOT NULL UNIQUE, columns text[] NOT NULL DEFAULT '{}',"
    " PRIMARY KEY (source_schema, source_table));";

std::optional<std::string> history_table_name(std::string_view schema, std::string_view table) {
    std::string name = std::string(schema) + "__" + std::string(table);
    if (name.size() > 63) {
        return std::nullopt;
    }
    return name;
}

std::string create_history_sql(const std::string& name) {
    const std::string t = table_sql(name);
    return "CREATE TABLE " + t +
           " (key jsonb NOT NULL,"
           " op text NOT NULL CHECK (op IN ('read', 'added', 'modified', 'deleted', "
           "'truncated')),"
           " row jsonb, json_null text[] NOT NULL DEFAULT '{}', changed jsonb,"
           " commit_ts timestamptz NOT NULL, commit_lsn pg_lsn NOT NULL, seq bigint NOT NULL,"
           " xid bigint NOT NULL, valid_from timestamptz NOT NULL, valid_to timestamptz,"
           " prev_key jsonb, next_key jsonb,"
           " PRIMARY KEY (key, commit_lsn, seq));"
           "CREATE INDEX ON " +
           t + " (key) WHERE valid_to IS NULL;CREATE INDEX ON " + t +
           " (valid_from, valid_to);CREATE INDEX ON " + t +
           " (commit_lsn, seq) WHERE prev_key IS NOT NULL;"
           "CREATE VIEW pgchangeset_current." +
           quote_ident(name) +
           " AS SELECT key, row, json_null, op, commit_ts, commit_lsn, seq, xid, valid_from FROM " +
           t + " WHERE valid_to IS NULL AND op NOT IN ('deleted', 'truncated');";
}

std::string add_version_sql(const std::string& name, const std::string& key_json,
                            const HistoryVersion& v, const std::string& prev_key,
                            const std::string& next_key, bool first) {
    const std::string t = table_sql(name);
    const std::string ts = quote_literal(v.commit_ts) + "::timestamptz";
    const std::string position = position_sql(v.position);
    return (first
                ? std::string()
                : "UPDATE " + t + " SET valid_to = " + ts + " WHERE key = " + jsonb_sql(key_json) +
                      " AND valid_to IS NULL AND (commit_lsn, seq) < " + position + ";") +
           "INSERT INTO " + t +
           " (key, op, row, json_null, changed, commit_ts, commit_lsn, seq, xid, valid_from, "
           "prev_key, next_key) SELECT " +
           jsonb_sql(key_json) + ", " + quote_literal(changeset::op_name(v.op)) + ", " +
           (v.has_row ? jsonb_sql(row_json(v.row)) : std::string("NULL::jsonb")) + ", " +
           text_array_sql(json_null_columns(v.row)) + ", " + jsonb_sql(v.changed_json) + ", " + ts +
           ", p.l, p.s, " + std::to_string(v.xid) + ", " + ts + ", " + jsonb_sql(prev_key) + ", " +
           jsonb_sql(next_key) + " FROM (VALUES " + position +
           ") AS p(l, s) ON CONFLICT (key, commit_lsn, seq) DO NOTHING;";
}

std::string truncate_history_sql(const std::string& name, const HistoryVersion& v) {
    const std::string t = table_sql(name);
    const std::string ts = quote_literal(v.commit_ts) + "::timestamptz";
    return "WITH closed AS (UPDATE " + t + " SET valid_to = " + ts +
           " WHERE valid_to IS NULL AND op NOT IN ('deleted', 'truncated') AND (commit_lsn, seq) "
           "< " +
           position_sql(v.position) + " RETURNING key, row, json_null) INSERT INTO " + t +
           " (key, op, row, json_null, commit_ts, commit_lsn, seq, xid, valid_from) SELECT key, "
           "'truncated', row, json_null, " +
           ts + ", " + quote_literal(format_lsn(v.position.commit_lsn)) + "::pg_lsn, " +
           std::to_string(v.position.seq) + ", " + std::to_string(v.xid) + ", " + ts +
           " FROM closed ON CONFLICT (key, commit_lsn, seq) DO NOTHING;";
}

std::string set_version_sql(const std::string& name, const std::string& key_json,
                            const EventPosition& position, const char* column,
                            const std::string& value) {
    return "UPDATE " + table_sql(name) + " SET " + column + " = " + jsonb_sql(value) +
           " WHERE key = " + jsonb_sql(key_json) +
           " AND (commit_lsn, seq) = " + position_sql(position) + ";";
}

std::string fill_columns_sql(const std::string& name, const std::string& key_json,
                             const EventPosition& from, const JsonRow& columns) {
    std::string out;
    for (const JsonColumn& c : columns) {
        out += "UPDATE " + table_sql(name) + " SET row = row || jsonb_build_object(" +
               quote_literal(c.name) + "::text, " + jsonb_sql(c.json) + ")" +
               (c.json_null
                    ? ", json_null = array_append(json_null, " + quote_literal(c.name) + "::text)"
                    : std::string()) +
               " WHERE key = " + jsonb_sql(key_json) +
               " AND (commit_lsn, seq) >= " + position_sql(from) +
               " AND row IS NOT NULL AND NOT row ? " + quote_literal(c.name) + ";";
    }
    return out;
}

std::string text_array_sql(const std::vector<std::string>& items) {
    std::string out = "ARRAY[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += (i == 0 ? "" : ", ") + quote_literal(items[i]);
    }
    return out + "]::text[]";
}

}  // namespace pgcs::apply
