// The progress table; see snapshot_store.hpp.
#include "core/snapshot/snapshot_store.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <stdexcept>

#include "core/source/pg_connection.hpp"
#include "core/source/stream_failure.hpp"

namespace pgcs::snapshot {

using source::exec;

void SnapshotStore::ensure_table() const {
    if (table_exists()) {
        return;
    }
    try {
        exec(conn_, "CREATE TABLE IF NOT EXISTS " + table_ +
                        " (slot_name text NOT NULL, table_name text NOT NULL, condition text, "
                        "state text NOT NULL, last_key jsonb, rows_done bigint NOT NULL DEFAULT "
                        "0, generation bigint NOT NULL DEFAULT 1, requested_at timestamptz NOT "
                        "NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), "
                        "message text, PRIMARY KEY (slot_name, table_name))");
    } catch (const source::PgError& e) {
        // PostgreSQL 15+ lets no ordinary user create in `public`: the operator chooses.
        const bool no_schema = e.sqlstate() == source::sqlstate::kInvalidSchemaName;
        if (!no_schema && e.sqlstate() != source::sqlstate::kInsufficientPrivilege) {
            throw;
        }
        throw source::StreamFailure(
            "cannot create the snapshot progress table " + table_ + " (" + e.what() +
            "): " + (no_schema ? "its schema does not exist. " : "") +
            "Point snapshot.table at a schema the daemon's user may create in (e.g. CREATE "
            "SCHEMA pgchangeset AUTHORIZATION <user>; snapshot.table: "
            "pgchangeset.pgchangeset_snapshots), or create the table for it and GRANT SELECT, "
            "INSERT, UPDATE, DELETE on it (README, \"Managed PostgreSQL and least privilege\"), "
            "or set snapshot.mode: never");
    }
}

bool SnapshotStore::table_exists() const {
    auto r = exec(conn_, "SELECT to_regclass($1) IS NOT NULL", {table_});
    return std::string(PQgetvalue(r.get(), 0, 0)) == "t";
}

void SnapshotStore::request(const std::string& table, const std::string& condition) const {
    exec(conn_,
         "INSERT INTO " + table_ +
             " AS p (slot_name, table_name, condition, state) VALUES ($1, $2, NULLIF($3, ''), "
             "'pending') ON CONFLICT (slot_name, table_name) DO UPDATE SET condition = "
             "EXCLUDED.condition, state = 'pending', last_key = NULL, rows_done = 0, "
             "generation = p.generation + 1, requested_at = now(), updated_at = now(), "
             "message = NULL",
         {slot_, table, condition});
}

void SnapshotStore::clear() const {
    exec(conn_, "DELETE FROM " + table_ + " WHERE slot_name = $1", {slot_});
}

SnapshotStore::Summary SnapshotStore::summary() const {
    auto r = exec(conn_,
                  "SELECT count(*), count(*) FILTER (WHERE state IN ('pending', 'running')), "
                  "count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state = "
                  "'failed'), coalesce(to_char(max(updated_at) AT TIME ZONE 'UTC', "
                  "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') FROM " +
                      table_ + " WHERE slot_name = $1",
                  {slot_});
    Summary s;
    s.tables = std::stoll(PQgetvalue(r.get(), 0, 0));
    s.unfinished = std::stoll(PQgetvalue(r.get(), 0, 1));
    s.done = std::stoll(PQgetvalue(r.get(), 0, 2));
    s.failed = std::stoll(PQgetvalue(r.get(), 0, 3));
    s.last_update = PQgetvalue(r.get(), 0, 4);
    return s;
}

std::vector<TableProgress> SnapshotStore::select(const std::string& where) const {
    auto r = exec(conn_,
                  "SELECT table_name, coalesce(condition, ''), state, coalesce(last_key::text, "
                  "''), rows_done, generation FROM " +
                      table_ + " WHERE slot_name = $1" + where + " ORDER BY table_name",
                  {slot_});
    std::vector<TableProgress> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        TableProgress p;
        p.table = PQgetvalue(r.get(), i, 0);
        p.condition = PQgetvalue(r.get(), i, 1);
        p.state = PQgetvalue(r.get(), i, 2);
        p.last_key = parse_key_json(PQgetvalue(r.get(), i, 3));
        p.rows = std::stoll(PQgetvalue(r.get(), i, 4));
        p.generation = std::stoll(PQgetvalue(r.get(), i, 5));
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<TableProgress> SnapshotStore::unfinished() const {
    return select(" AND state IN ('pending', 'running')");
}

std::vector<TableProgress> SnapshotStore::all() const {
    return select("");
}

void SnapshotStore::save(const std::string& table, std::int64_t generation,
                         const std::vector<std::string>& last_key, std::int64_t rows,
                         bool done) const {
    exec(conn_,
         "UPDATE " + table_ +
             " SET state = $4, last_key = $5::jsonb, rows_done = $6, updated_at = now() "
             "WHERE slot_name = $1 AND table_name = $2 AND generation = $3",
         {slot_, table, std::to_string(generation), done ? "done" : "running", key_json(last_key),
          std::to_string(rows)});
}

void SnapshotStore::fail(const std::string& table, std::int64_t generation,
                         const std::string& why) const {
    exec(conn_,
         "UPDATE " + table_ +
             " SET state = 'failed', message = $4, updated_at = now() WHERE slot_name = $1 AND "
             "table_name = $2 AND generation = $3",
         {slot_, table, std::to_string(generation), why});
}

std::string SnapshotStore::key_json(const std::vector<std::string>& key) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartArray();
    for (const auto& k : key) {
        w.String(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    }
    w.EndArray();
    return {buf.GetString(), buf.GetSize()};
}

std::vector<std::string> SnapshotStore::parse_key_json(const std::string& json) {
    std::vector<std::string> out;
    if (json.empty()) {
        return out;
    }
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    if (d.HasParseError() || !d.IsArray()) {
        throw std::runtime_error("snapshot progress: last_key is not a JSON array: " + json);
    }
    for (const auto& v : d.GetArray()) {
        if (!v.IsString()) {
            throw std::runtime_error("snapshot progress: last_key holds a non-string: " + json);
        }
        out.emplace_back(v.GetString(), v.GetStringLength());
    }
    return out;
}

}  // namespace pgcs::snapshot
