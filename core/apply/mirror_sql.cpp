// SQL text for mirror mode; see mirror_sql.hpp.
#include "core/apply/mirror_sql.hpp"

namespace pgcs::apply {
namespace {

std::string key_condition(const SinkEvent& event) {
    std::string out;
    for (const ColumnValue& k : event.key) {
        out += (out.empty() ? "" : " AND ") + quote_ident(k.name) + " = " +
               value_sql(k, column_type(event, k.name));
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

std::string_view column_type(const SinkEvent& event, std::string_view column) {
    for (const ColumnType& t : event.types) {
        if (t.name == column) {
            return t.type;
        }
    }
    return "text";
}

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
        values += (values.empty() ? "" : ", ") + value_sql(v, column_type(event, v.name));
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

std::string row_values_sql(const std::vector<ColumnValue>& row,
                           const std::vector<ColumnType>& columns) {
    std::string out = "(";
    for (std::size_t i = 0; i < row.size(); ++i) {
        out += (i == 0 ? "" : ", ") + value_sql(row[i], columns[i].type);
    }
    return out + ")";
}

namespace {

// INSERT INTO schema.table (columns) <source> ON CONFLICT (key) DO UPDATE the other columns.
std::string upsert_from(std::string_view schema, std::string_view table,
                        const std::vector<ColumnType>& columns,
                        const std::vector<std::string>& key_names, std::string_view source) {
    std::string names;
    std::string updates;
    for (const ColumnType& c : columns) {
        names += (names.empty() ? "" : ", ") + quote_ident(c.name);
        bool key = false;
        for (const std::string& k : key_names) {
            key = key || k == c.name;
        }
        if (!key) {
            updates += (updates.empty() ? "" : ", ") + quote_ident(c.name) + " = EXCLUDED." +
                       quote_ident(c.name);
        }
    }
    std::string conflict;
    for (const std::string& k : key_names) {
        conflict += (conflict.empty() ? "" : ", ") + quote_ident(k);
    }
    return "INSERT INTO " + qualified_name(schema, table) + " (" + names + ") " +
           std::string(source) + " ON CONFLICT (" + conflict + ") DO " +
           (updates.empty() ? "NOTHING" : "UPDATE SET " + updates) + ";";
}

}  // namespace

std::string upsert_rows_sql(std::string_view schema, std::string_view table,
                            const std::vector<ColumnType>& columns,
                            const std::vector<std::string>& key_names, std::string_view rows) {
    return upsert_from(schema, table, columns, key_names, "VALUES " + std::string(rows));
}

std::string delete_rows_sql(std::string_view schema, std::string_view table,
                            const std::vector<ColumnType>& key_columns, std::string_view keys) {
    std::string names;
    std::string condition;
    for (const ColumnType& k : key_columns) {
        names += (names.empty() ? "" : ", ") + quote_ident(k.name);
        condition += (condition.empty() ? "" : " AND ") + std::string("pgcs_t.") +
                     quote_ident(k.name) + " = pgcs_k." + quote_ident(k.name);
    }
    return "DELETE FROM " + qualified_name(schema, table) + " AS pgcs_t USING (VALUES " +
           std::string(keys) + ") AS pgcs_k (" + names + ") WHERE " + condition + ";";
}

void copy_row(const std::vector<ColumnValue>& row, const std::vector<ColumnType>& columns,
              std::string& out) {
    (void)columns;  // bytea's base64 needs no escaping; every type's text is copied as it is
    for (std::size_t i = 0; i < row.size(); ++i) {
        if (i > 0) {
            out += '\t';
        }
        if (row[i].sql_null) {
            out += "\\N";
            continue;
        }
        for (char c : row[i].text) {
            switch (c) {
                case '\\':
                    out += "\\\\";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                default:
                    out += c;
            }
        }
    }
    out += '\n';
}

namespace {

std::string column_list(const std::vector<ColumnType>& columns) {
    std::string out;
    for (const ColumnType& c : columns) {
        out += (out.empty() ? "" : ", ") + quote_ident(c.name);
    }
    return out;
}

}  // namespace

std::string create_staging_sql(std::string_view staging, const std::vector<ColumnType>& columns) {
    std::string sql = "CREATE TEMP TABLE " + quote_ident(staging) + " (";
    for (std::size_t i = 0; i < columns.size(); ++i) {
        sql += (i == 0 ? "" : ", ") + quote_ident(columns[i].name) + " " +
               (columns[i].type == "bytea" ? std::string("text") : quote_ident(columns[i].type));
    }
    return sql + ");";
}

std::string copy_staging_sql(std::string_view staging, const std::vector<ColumnType>& columns) {
    return "COPY " + quote_ident(staging) + " (" + column_list(columns) + ") FROM STDIN";
}

std::string merge_staged_sql(std::string_view staging, std::string_view schema,
                             std::string_view table, const std::vector<ColumnType>& columns,
                             const std::vector<std::string>& key_names) {
    std::string select;
    for (const ColumnType& c : columns) {
        select += (select.empty() ? "" : ", ") +
                  (c.type == "bytea" ? "decode(" + quote_ident(c.name) + ", 'base64')"
                                     : quote_ident(c.name));
    }
    return upsert_from(schema, table, columns, key_names,
                       "SELECT " + select + " FROM " + quote_ident(staging)) +
           "TRUNCATE " + quote_ident(staging) + ";";
}

std::string truncate_sql(std::string_view schema, std::string_view table) {
    return "TRUNCATE " + qualified_name(schema, table) + ";";
}

}  // namespace pgcs::apply
