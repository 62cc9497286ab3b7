// IDENTIFY_SYSTEM and ALTER_REPLICATION_SLOT on a replication connection.
#include "core/source/server_identity.hpp"

#include "core/source/pg_connection.hpp"
#include "core/source/stream_failure.hpp"

namespace pgcs::source {

namespace {

// The simple query protocol: a walsender does not take the extended one (exec()).
PgResultPtr simple_query(PGconn* conn, const std::string& sql) {
    PgResultPtr res(PQexec(conn, sql.c_str()));
    const auto status = PQresultStatus(res.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
        std::string msg = PQerrorMessage(conn);
        while (!msg.empty() && msg.back() == '\n') {
            msg.pop_back();
        }
        throw PgError(sql + ": " + msg, state != nullptr ? state : "");
    }
    return res;
}

}  // namespace

ServerIdentity identify_system(PGconn* replication_conn) {
    auto res = simple_query(replication_conn, "IDENTIFY_SYSTEM");
    if (PQntuples(res.get()) != 1 || PQnfields(res.get()) < 3) {
        throw PgError("IDENTIFY_SYSTEM returned no row: not a replication connection?", "");
    }
    ServerIdentity id;
    id.system_id = PQgetvalue(res.get(), 0, 0);
    id.timeline = std::stoi(PQgetvalue(res.get(), 0, 1));
    id.wal_position = parse_lsn(PQgetvalue(res.get(), 0, 2)).value_or(0);
    return id;
}

void enable_slot_failover(PGconn* replication_conn, const std::string& slot) {
    simple_query(replication_conn, "ALTER_REPLICATION_SLOT " + quote_ident(replication_conn, slot) +
                                       " (FAILOVER true)");
}

IdentityChange compare_identity(const ServerIdentity& first, const ServerIdentity& seen) {
    if (seen.system_id != first.system_id) {
        throw StreamFailure(
            "postgres.conninfo now reaches another PostgreSQL cluster (system identifier " +
            seen.system_id + ", was " + first.system_id +
            "): its slot is not the one pgchangeset streamed, even with the same name. Not "
            "streaming from it: point conninfo at the primary or its promoted standby");
    }
    return seen.timeline != first.timeline ? IdentityChange::Promoted : IdentityChange::Same;
}

}  // namespace pgcs::source
