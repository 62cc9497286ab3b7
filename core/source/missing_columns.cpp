// SELECT <missing columns> FROM <table> WHERE <key> = <new key>; see missing_columns.hpp.
#include "core/source/missing_columns.hpp"

#include <string>
#include <vector>

#include "core/changeset/key_change.hpp"
#include "core/source/pg_error.hpp"

namespace pgcs::source {

using changeset::Value;

PgResultPtr read_missing_columns(PGconn* conn, changeset::Changeset& added) {
    if (added.unchanged_toast.empty() || !added.has_after) {
        return nullptr;
    }
    const changeset::RelationInfo& rel = *added.relation;
    std::string sql = "SELECT ";
    for (std::size_t i = 0; i < added.unchanged_toast.size(); ++i) {
        sql += (i == 0 ? "" : ", ") + quote_ident(conn, rel.columns[added.unchanged_toast[i]].name);
    }
    sql += " FROM " + quote_ident(conn, rel.schema) + "." + quote_ident(conn, rel.name) + " WHERE ";
    // The key's values as PostgreSQL sent them: text, or the type's binary form (binary mode),
    // each typed by its column's type OID.
    std::vector<Oid> types;
    std::vector<std::string> texts;  // libpq reads a text parameter up to its NUL
    texts.reserve(rel.columns.size());
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    for (std::size_t i = 0; i < rel.columns.size(); ++i) {
        const changeset::RelationColumn& column = rel.columns[i];
        if (!column.is_key) {
            continue;
        }
        const Value& v = added.after[i];
        if (v.state != Value::State::Text && v.state != Value::State::Binary) {
            return nullptr;  // a key without a value (NULL in a unique index): no row to read
        }
        sql += (types.empty() ? "" : " AND ") + quote_ident(conn, column.name) + " = $" +
               std::to_string(types.size() + 1);
        types.push_back(column.type_oid);
        if (v.state == Value::State::Text) {
            values.push_back(texts.emplace_back(v.data).c_str());
        } else {
            values.push_back(v.data.data());
        }
        lengths.push_back(static_cast<int>(v.data.size()));
        formats.push_back(v.state == Value::State::Binary ? 1 : 0);
    }
    if (types.empty()) {
        return nullptr;
    }
    PgResultPtr result;
    try {
        result = exec_params(conn, sql, static_cast<int>(types.size()), types.data(), values.data(),
                             lengths.data(), formats.data());
    } catch (const PgError& e) {
        // Renamed or dropped since that transaction: like a row that is gone.
        if (e.sqlstate() == sqlstate::kUndefinedColumn ||
            e.sqlstate() == sqlstate::kUndefinedTable ||
            e.sqlstate() == sqlstate::kInvalidSchemaName) {
            return nullptr;
        }
        throw;
    }
    if (PQntuples(result.get()) != 1) {
        return result;  // the row is gone (deleted, or its key changed again)
    }
    const std::vector<std::uint16_t> missing = added.unchanged_toast;
    for (std::size_t i = 0; i < missing.size(); ++i) {
        const int field = static_cast<int>(i);
        if (PQgetisnull(result.get(), 0, field) != 0) {
            changeset::fill_column(added, missing[i], {Value::State::Null, {}});
        } else {
            changeset::fill_column(
                added, missing[i],
                {Value::State::Text,
                 {PQgetvalue(result.get(), 0, field),
                  static_cast<std::size_t>(PQgetlength(result.get(), 0, field))}});
        }
    }
    return result;
}

}  // namespace pgcs::source
