// Catalog queries and the publication/slot set-up.
#include "core/source/catalog.hpp"

#include <cstdio>
#include <limits>
#include <stdexcept>

#include "core/source/pg_connection.hpp"

namespace pgcs::source {

namespace {

// An LSN the server returned: anything else is a protocol surprise worth stopping on.
Lsn server_lsn(const char* text) {
    if (const auto lsn = parse_lsn(text)) {
        return *lsn;
    }
    throw std::invalid_argument("the server returned '" + std::string(text) +
                                "' where an LSN was expected");
}

}  // namespace

int Catalog::server_version() const {
    return PQserverVersion(conn_);
}

bool Catalog::in_recovery() const {
    auto res = exec(conn_, "SELECT pg_is_in_recovery()");
    return std::string(PQgetvalue(res.get(), 0, 0)) == "t";
}

std::string Catalog::current_database() const {
    auto res = exec(conn_, "SELECT current_database()");
    return PQgetvalue(res.get(), 0, 0);
}

std::vector<TableName> Catalog::resolve_tables(const std::vector<std::string>& tables) const {
    std::vector<TableName> out;
    out.reserve(tables.size());
    std::string problems;
    for (const auto& t : tables) {
        auto res = exec(conn_,
                        "SELECT n.nspname, c.relname, c.relkind, format('%I.%I', n.nspname, "
                        "c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                        "c.relnamespace WHERE c.oid = to_regclass($1)",
                        {t});
        if (PQntuples(res.get()) == 0) {
            problems.append("\n  ").append(t).append(
                ": no such table (check postgres.tables and the database in postgres.conninfo)");
            continue;
        }
        const std::string kind = PQgetvalue(res.get(), 0, 2);
        if (kind != "r" && kind != "p") {
            problems.append("\n  ").append(t).append(": not a table (relkind '").append(kind);
            problems.append("'); only tables can be published");
            continue;
        }
        out.push_back({PQgetvalue(res.get(), 0, 0), PQgetvalue(res.get(), 0, 1),
                       PQgetvalue(res.get(), 0, 3)});
    }
    if (!problems.empty()) {
        throw std::runtime_error("postgres.tables names tables that cannot be published:" +
                                 problems);
    }
    return out;
}

bool Catalog::publication_exists(const std::string& publication) const {
    auto res = exec(conn_, "SELECT 1 FROM pg_publication WHERE pubname = $1", {publication});
    return PQntuples(res.get()) > 0;
}

std::vector<TableName> Catalog::publication_tables(const std::string& publication) const {
    auto res = exec(conn_,
                    "SELECT schemaname, tablename, format('%I.%I', schemaname, tablename) "
                    "FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2",
                    {publication});
    std::vector<TableName> out;
    out.reserve(static_cast<std::size_t>(PQntuples(res.get())));
    for (int i = 0; i < PQntuples(res.get()); ++i) {
        out.push_back({PQgetvalue(res.get(), i, 0), PQgetvalue(res.get(), i, 1),
                       PQgetvalue(res.get(), i, 2)});
    }
    return out;
}

std::string Catalog::ensure_publication(const std::string& publication, bool via_root,
                                        const std::vector<TableName>& tables) const {
    const std::string pub = quote_ident(conn_, publication);
    auto join = [](const std::vector<TableName>& ts) {
        std::string s;
        for (const auto& t : ts) {
            s += (s.empty() ? "" : ", ") + t.quoted;
        }
        return s;
    };
    if (!publication_exists(publication)) {
        if (tables.empty()) {
            throw std::runtime_error("publication '" + publication +
                                     "' does not exist and postgres.tables is empty: list the "
                                     "tables to capture, or create the publication yourself");
        }
        const bool with_root = via_root && server_version() >= 130000;
        // PostgreSQL 18 sends stored generated columns when the publication asks for them.
        const bool with_generated = server_version() >= 180000;
        std::string with;
        if (with_root) {
            with = "publish_via_partition_root = true";
        }
        if (with_generated) {
            with += std::string(with.empty() ? "" : ", ") + "publish_generated_columns = stored";
        }
        exec(conn_, "CREATE PUBLICATION " + pub + " FOR TABLE " + join(tables) +
                        (with.empty() ? "" : " WITH (" + with + ")"));
        return "created publication " + publication + " for " + join(tables) +
               (with.empty() ? "" : " (" + with + ")");
    }
    std::string done;
    if (server_version() >= 130000) {
        auto r =
            exec(conn_, "SELECT pubviaroot FROM pg_publication WHERE pubname = $1", {publication});
        const bool current = std::string(PQgetvalue(r.get(), 0, 0)) == "t";
        if (current != via_root) {
            exec(conn_, "ALTER PUBLICATION " + pub + " SET (publish_via_partition_root = " +
                            (via_root ? "true" : "false") + ")");
            done = std::string("set publish_via_partition_root = ") +
                   (via_root ? "true" : "false") + " on publication " + publication +
                   " (postgres.publish_via_partition_root)";
        }
    }
    const auto existing = publication_tables(publication);
    std::vector<TableName> missing;
    for (const auto& t : tables) {
        bool found = false;
        for (const auto& e : existing) {
            found = found || (e.schema == t.schema && e.name == t.name);
        }
        if (!found) {
            missing.push_back(t);
        }
    }
    if (missing.empty()) {
        return done;
    }
    exec(conn_, "ALTER PUBLICATION " + pub + " ADD TABLE " + join(missing));
    return (done.empty() ? "" : done + "; ") + "added " + join(missing) + " to publication " +
           publication;
}

std::string Catalog::generated_columns_warning(const std::string& publication) const {
    const bool pg18 = server_version() >= 180000;
    auto res = exec(conn_,
                    std::string("SELECT format('%I.%I.%I', pt.schemaname, pt.tablename, "
                                "a.attname) FROM pg_publication_tables pt JOIN pg_namespace n "
                                "ON n.nspname = pt.schemaname JOIN pg_class c ON c.relnamespace "
                                "= n.oid AND c.relname = pt.tablename JOIN pg_attribute a ON "
                                "a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND "
                                "a.attgenerated = 's' WHERE pt.pubname = $1") +
                        // A column list leaving a generated column out is the DBA's choice.
                        (pg18 ? " AND NOT (a.attname = ANY (pt.attnames)) AND NOT EXISTS "
                                "(SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON "
                                "p.oid = pr.prpubid WHERE p.pubname = $1 AND pr.prrelid = c.oid "
                                "AND pr.prattrs IS NOT NULL)"
                              : "") +
                        " ORDER BY 1",
                    {publication});
    std::string columns;
    for (int i = 0; i < PQntuples(res.get()); ++i) {
        columns += (i ? ", " : "") + std::string(PQgetvalue(res.get(), i, 0));
    }
    if (columns.empty()) {
        return "";
    }
    if (pg18) {
        return "publication " + publication +
               " does not publish these stored generated columns, so their values are not "
               "captured (in the stream nor in snapshots): " +
               columns + ". To capture them: ALTER PUBLICATION " + quote_ident(conn_, publication) +
               " SET (publish_generated_columns = stored)";
    }
    return "PostgreSQL " + std::to_string(server_version() / 10000) +
           " does not send generated columns to logical replication (18 does), so these are not "
           "captured (in the stream nor in snapshots): " +
           columns;
}

std::optional<SlotInfo> Catalog::slot(const std::string& slot_name) const {
    // failover and synced: PostgreSQL 17+.
    const std::string v17 = server_version() >= 170000 ? "failover, synced" : "false, false";
    auto res = exec(conn_,
                    "SELECT plugin, database, active, coalesce(active_pid, 0), "
                    "coalesce(confirmed_flush_lsn::text, '0/0'), coalesce(wal_status, ''), " +
                        v17 + ", temporary FROM pg_replication_slots WHERE slot_name = $1",
                    {slot_name});
    if (PQntuples(res.get()) == 0) {
        return std::nullopt;
    }
    SlotInfo s;
    s.plugin = PQgetvalue(res.get(), 0, 0);
    s.database = PQgetvalue(res.get(), 0, 1);
    s.active = std::string(PQgetvalue(res.get(), 0, 2)) == "t";
    s.active_pid = std::stoi(PQgetvalue(res.get(), 0, 3));
    s.confirmed_flush = server_lsn(PQgetvalue(res.get(), 0, 4));
    s.wal_status = PQgetvalue(res.get(), 0, 5);
    s.failover = std::string(PQgetvalue(res.get(), 0, 6)) == "t";
    s.synced = std::string(PQgetvalue(res.get(), 0, 7)) == "t";
    s.temporary = std::string(PQgetvalue(res.get(), 0, 8)) == "t";
    return s;
}

Lsn Catalog::create_slot(const std::string& slot_name, bool failover) const {
    // Not bounded by the query timeout: PostgreSQL creates the slot only once every transaction
    // running at that moment has ended, which on a busy server can take as long as its longest
    // transaction. Cut short, the server would go on creating it for a client that is gone.
    constexpr int kNoTimeoutMs = std::numeric_limits<int>::max();
    // (slot, plugin, temporary, two_phase, failover): the last one since PostgreSQL 17.
    auto res = exec(conn_,
                    failover ? "SELECT lsn::text FROM pg_create_logical_replication_slot($1, "
                               "'pgoutput', false, false, true)"
                             : "SELECT lsn::text FROM pg_create_logical_replication_slot($1, "
                               "'pgoutput')",
                    {slot_name}, kNoTimeoutMs);
    return server_lsn(PQgetvalue(res.get(), 0, 0));
}

std::vector<std::string> Catalog::primary_key(std::uint32_t relation_oid) const {
    return index_columns(relation_oid, "indisprimary");
}

std::optional<std::vector<std::string>> Catalog::primary_key_if_exists(
    std::uint32_t relation_oid) const {
    // No row: no such relation. One row with a NULL name: a relation without a primary key.
    auto res = exec(conn_,
                    "SELECT a.attname FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.oid "
                    "AND i.indisprimary LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND "
                    "a.attnum = ANY(i.indkey) WHERE c.oid = $1::oid "
                    "ORDER BY array_position(i.indkey::int2[], a.attnum)",
                    {std::to_string(relation_oid)});
    const int rows = PQntuples(res.get());
    if (rows == 0) {
        return std::nullopt;
    }
    std::vector<std::string> out;
    for (int i = 0; i < rows; ++i) {
        if (PQgetisnull(res.get(), i, 0) == 0) {
            out.emplace_back(PQgetvalue(res.get(), i, 0));
        }
    }
    return out;
}

std::vector<std::string> Catalog::replica_identity_index(std::uint32_t relation_oid) const {
    return index_columns(relation_oid, "indisreplident");
}

std::vector<std::string> Catalog::index_columns(std::uint32_t relation_oid,
                                                const char* which) const {
    auto res = exec(conn_,
                    std::string("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON "
                                "a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE "
                                "i.indrelid = $1::oid AND i.") +
                        which + " ORDER BY array_position(i.indkey::int2[], a.attnum)",
                    {std::to_string(relation_oid)});
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(PQntuples(res.get())));
    for (int i = 0; i < PQntuples(res.get()); ++i) {
        out.emplace_back(PQgetvalue(res.get(), i, 0));
    }
    return out;
}

std::optional<std::vector<std::string>> Catalog::primary_or_unique_key(
    std::uint32_t relation_oid) const {
    auto pk = primary_key_if_exists(relation_oid);
    if (!pk || !pk->empty()) {
        return pk;
    }
    auto res = exec(conn_,
                    "SELECT a.attname FROM (SELECT i.indexrelid, i.indkey FROM pg_index i JOIN "
                    "pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = $1::oid AND "
                    "i.indisunique ORDER BY ic.relname COLLATE \"C\" LIMIT 1) f CROSS JOIN "
                    "unnest(f.indkey::int2[]) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a "
                    "ON a.attrelid = $1::oid AND a.attnum = k.attnum ORDER BY k.n",
                    {std::to_string(relation_oid)});
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(res.get()); ++i) {
        out.emplace_back(PQgetvalue(res.get(), i, 0));
    }
    return out;
}

std::vector<std::string> Catalog::not_null_columns(std::uint32_t relation_oid) const {
    auto res = exec(conn_,
                    "SELECT attname FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 "
                    "AND NOT attisdropped AND attnotnull ORDER BY attnum",
                    {std::to_string(relation_oid)});
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(res.get()); ++i) {
        out.emplace_back(PQgetvalue(res.get(), i, 0));
    }
    return out;
}

bool Catalog::resolve_type(std::uint32_t oid, changeset::TypeRegistry& registry) const {
    if (registry.find(oid) != nullptr) {
        return true;
    }
    auto res = exec(conn_,
                    "SELECT typname, typtype, typbasetype, typelem, typcategory, typdelim, "
                    "(SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum "
                    "WHERE enumtypid = t.oid) FROM pg_type t WHERE oid = $1::oid",
                    {std::to_string(oid)});
    if (PQntuples(res.get()) == 0) {
        return false;
    }
    changeset::CatalogType t;
    t.oid = oid;
    t.name = PQgetvalue(res.get(), 0, 0);
    t.typtype = PQgetvalue(res.get(), 0, 1)[0];
    t.base_oid = static_cast<std::uint32_t>(std::stoul(PQgetvalue(res.get(), 0, 2)));
    t.category = PQgetvalue(res.get(), 0, 4)[0];
    t.element_oid =
        t.category == 'A' ? static_cast<std::uint32_t>(std::stoul(PQgetvalue(res.get(), 0, 3))) : 0;
    t.delimiter = PQgetvalue(res.get(), 0, 5)[0];
    t.enum_labels = PQgetvalue(res.get(), 0, 6);
    // A type's base and element cannot be dropped while it exists.
    if (t.typtype == 'd' && t.base_oid != 0 && !resolve_type(t.base_oid, registry)) {
        return false;
    }
    if (t.element_oid != 0 && !resolve_type(t.element_oid, registry)) {
        return false;
    }
    registry.add(t);
    return true;
}

ExportedSnapshot create_slot_exporting(const ConnectionSettings& settings,
                                       const std::string& slot_name, bool failover) {
    ExportedSnapshot out;
    out.conn = connect(settings, true);
    // The replication protocol's own command (the SQL function cannot export a snapshot). The
    // pre-15 option spelling, which PostgreSQL 15+ still accepts; a failover slot (17+) needs the
    // new one. Not bounded by a timeout, for the same reason as create_slot().
    const std::string sql = "CREATE_REPLICATION_SLOT " + quote_ident(out.conn.get(), slot_name) +
                            " LOGICAL pgoutput" +
                            (failover ? " (SNAPSHOT 'export', FAILOVER true)" : " EXPORT_SNAPSHOT");
    PgResultPtr res(PQexec(out.conn.get(), sql.c_str()));
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK || PQntuples(res.get()) != 1) {
        const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
        throw PgError(
            "cannot create replication slot " + slot_name + ": " + PQerrorMessage(out.conn.get()),
            state != nullptr ? state : "");
    }
    out.consistent_point = server_lsn(PQgetvalue(res.get(), 0, 1));
    out.name = PQgetvalue(res.get(), 0, 2);
    return out;
}

}  // namespace pgcs::source
