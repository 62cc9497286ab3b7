// SQL text for mirror mode; see mirror_sql.hpp.
#include "core/apply/mirror_sql.hpp"

namespace pgcs::apply {
namespace {

std::string_view type_of(const SinkEvent& event, std::string_view column) {
    for (const ColumnType& t : event.types) {
        if (t.name == column) {
            return t.type;
        }
    }
    return "text";
}

std::string key_condition(const SinkEvent& event) {
    std::string out;
    for (const ColumnValue& k : event.key) {
        out += (out.empty() ? "" : " AND ") + quote_ident(k.name) + " = " +
               value_sql(k, type_of(event, k.name));
    }
    return out;
}

bool is_key(const SinkEvent& event, std::string_view column) {
    for (const ColumnValue& k : event.key) {
        if (k.name == column) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::string quote_ident(std::string_view name) {
    std::string out = "\"";
    for (char c : name) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

std::string quote_literal(std::string_view text) {
    std::string out = "'";
    for (char c : text) {
        out += c;
        if (c == '\'') {
            out += '\'';
        }
    }
    return out + "'";
}

std::string qualified_name(std::string_view schema, std::string_view table) {
    return quote_ident(schema) + "." + quote_ident(table);
}

std::string value_sql(const ColumnValue& value, std::string_view type) {
    const std::string cast = "::" + quote_ident(type);
    if (value.sql_null) {
        return "NULL" + cast;
    }
    if (type == "bytea") {
        return "decode(" + quote_literal(value.text) + ", 'base64')";
    }
    return quote_literal(value.text) + cast;
}

std::string create_table_sql(const SinkEvent& event) {
    std::string sql = "CREATE SCHEMA IF NOT EXISTS " + quote_ident(event.schema) +
                      ";CREATE TABLE IF NOT EXISTS " + qualified_name(event.schema, event.table) +
                      " (";
    for (const ColumnType& column : event.types) {
        sql += quote_ident(column.name) + " " + quote_ident(column.type) + ", ";
    }
    sql += "PRIMARY KEY (";
    for (std::size_t i = 0; i < event.key.size(); ++i) {
        sql += (i == 0 ? "" : ", ") + quote_ident(event.key[i].name);
    }
    return sql + "));";
}

std::string add_column_sql(const SinkEvent& event, const ColumnType& column) {
    return "ALTER TABLE " + qualified_name(event.schema, event.table) +
           " ADD COLUMN IF NOT EXISTS " + quote_ident(column.name) + " " +
           quote_ident(column.type) + ";";
}

std::string upsert_sql(const SinkEvent& event) {
    std::string columns;
    std::string values;
    std::string updates;
    for (const ColumnValue& v : event.after) {
        columns += (columns.empty() ? "" : ", ") + quote_ident(v.name);
        values += (values.empty() ? "" : ", ") + value_sql(v, type_of(event, v.name));
        if (!is_key(event, v.name)) {
            updates += (updates.empty() ? "" : ", ") + quote_ident(v.name) + " = EXCLUDED." +
                       quote_ident(v.name);
        }
    }
    std::string conflict;
    for (const ColumnValue& k : event.key) {
        conflict += (conflict.empty() ? "" : ", ") + quote_ident(k.name);
    }
    return "INSERT INTO " + qualified_name(event.schema, event.table) + " (" + columns +
           ") VALUES (" + values + ") ON CONFLICT (" + conflict + ") DO " +
           (updates.empty() ? "NOTHING" : "UPDATE SET " + updates) + ";";
}

std::string delete_sql(const SinkEvent& event) {
    return "DELETE FROM " + qualified_name(event.schema, event.table) + " WHERE " +
           key_condition(event) + ";";
}

std::string truncate_sql(std::string_view schema, std::string_view table) {
    return "TRUNCATE " + qualified_name(schema, table) + ";";
}

}  // namespace pgcs::apply
