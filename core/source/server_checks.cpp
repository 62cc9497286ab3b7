// Start-up checks of the server and the role; see server_checks.hpp.
#include "core/source/server_checks.hpp"

#include <spdlog/spdlog.h>

#include "core/source/pg_error.hpp"
#include "core/source/server_version.hpp"
#include "core/source/stream_failure.hpp"

namespace pgcs::source {

void check_server_settings(int version, bool in_recovery, const SourceSettings& s) {
    const auto verdict = judge_server_version(version);
    if (verdict.kind == ServerVersionVerdict::Kind::TooOld) {
        throw UnsupportedServer(verdict.message);
    }
    if (verdict.kind == ServerVersionVerdict::Kind::Untested) {
        spdlog::warn("{}", verdict.message);
    }
    if (s.failover && version < 170000) {
        throw ConfigFailure(
            "postgres.failover needs PostgreSQL 17 or later (the server is " +
            std::to_string(version) +
            "): older servers do not copy logical slots to standbys. Set it to false; after a "
            "failover create a new slot and snapshot again (README, \"Upgrades and high "
            "availability\")");
    }
    if (s.failover && in_recovery) {
        throw ConfigFailure(
            "postgres.failover is true but postgres.conninfo reaches a standby: a failover slot "
            "is made on the primary (its copies on standbys are PostgreSQL's). Point conninfo "
            "at the primary (host=primary,standby target_session_attrs=read-write), or set "
            "failover to false to decode from this standby");
    }
    if (s.binary && version < 140000) {
        throw StreamFailure("postgres.binary needs PostgreSQL 14 or later (the server is " +
                            std::to_string(version) + "): set it to false");
    }
    if (s.messages && version < 140000) {
        throw StreamFailure("postgres.messages needs PostgreSQL 14 or later (the server is " +
                            std::to_string(version) + "): set it to false");
    }
    if (in_recovery && version < 160000) {
        throw StreamFailure("postgres.conninfo reaches a standby, and PostgreSQL " +
                            std::to_string(version) +
                            " decodes only on a primary (16 or later decodes on a standby): "
                            "point conninfo at the primary");
    }
}

void check_wal_level(PGconn* conn) {
    auto wal_level = exec(conn, "SHOW wal_level");
    const std::string level = PQgetvalue(wal_level.get(), 0, 0);
    if (level != "logical") {
        throw StreamFailure("wal_level is '" + level +
                            "', logical replication needs 'logical': set wal_level = logical in "
                            "postgresql.conf and restart PostgreSQL");
    }
}

void warn_about_keys(PGconn* conn, const std::vector<TableName>& tables) {
    for (const auto& t : tables) {
        auto r = exec(conn,
                      "SELECT c.relreplident, EXISTS (SELECT 1 FROM pg_index i WHERE "
                      "i.indrelid = c.oid AND i.indisprimary), EXISTS (SELECT 1 FROM "
                      "pg_index i WHERE i.indrelid = c.oid AND i.indisreplident) "
                      "FROM pg_class c WHERE c.oid = $1::regclass",
                      {t.quoted});
        const char identity = PQgetvalue(r.get(), 0, 0)[0];
        const bool pk = std::string(PQgetvalue(r.get(), 0, 1)) == "t";
        const bool index = std::string(PQgetvalue(r.get(), 0, 2)) == "t";
        if (!pk && !index) {
            spdlog::warn(
                "table {}.{} has neither a primary key nor a replica identity index: "
                "its events have a null Kafka key (no per-key order){}",
                t.schema, t.name,
                identity == 'f' ? ""
                                : ", and PostgreSQL refuses UPDATE and DELETE on it "
                                  "until it has one (or REPLICA IDENTITY FULL)");
        }
    }
}

void check_standby_publication(const std::string& publication, bool exists,
                               const std::vector<TableName>& published,
                               const std::vector<TableName>& tables) {
    if (!exists) {
        throw StreamFailure("publication '" + publication +
                            "' does not exist, and postgres.conninfo reaches a standby, where "
                            "nothing can be created: create it on the primary (CREATE "
                            "PUBLICATION ... FOR TABLE ...)");
    }
    std::string missing;
    for (const auto& t : tables) {
        bool found = false;
        for (const auto& p : published) {
            found = found || (p.schema == t.schema && p.name == t.name);
        }
        if (!found) {
            missing += (missing.empty() ? "" : ", ") + t.quoted;
        }
    }
    if (!missing.empty()) {
        throw StreamFailure("publication '" + publication + "' lacks " + missing +
                            ", and postgres.conninfo reaches a standby: add them on the primary "
                            "(ALTER PUBLICATION ... ADD TABLE ...)");
    }
}

// Whether the user may replicate is the server's answer, not the catalog's: a replication
// connection is opened (and closed) before anything is created. Amazon RDS and Aurora grant
// replication through membership in rds_replication, which plain PostgreSQL's catalog cannot
// tell from a membership that passes nothing on (REPLICATION is never inherited there); the
// catalog only explains the outcome in the log.
PgConnPtr connect_replication_checked(PGconn* conn, const ConnectionSettings& settings) {
    auto role = exec(conn,
                     "SELECT current_user, rolsuper OR rolreplication, coalesce((SELECT "
                     "string_agg(m.rolname, ', ' ORDER BY m.rolname) FROM pg_roles m "
                     "WHERE m.rolname IN ('rds_replication', 'rds_superuser') AND "
                     "pg_has_role(current_user, m.oid, 'MEMBER')), '') "
                     "FROM pg_roles WHERE rolname = current_user");
    const std::string user = PQgetvalue(role.get(), 0, 0);
    const bool attribute = std::string(PQgetvalue(role.get(), 0, 1)) == "t";
    const std::string member_of = PQgetvalue(role.get(), 0, 2);
    PgConnPtr replication;
    try {
        replication = connect(settings, true);
    } catch (const PgError& e) {
        if (e.sqlstate() != sqlstate::kInsufficientPrivilege ||
            e.origin() != PgErrorOrigin::ReplicationConnect) {
            throw;
        }
        throw StreamFailure(
            "PostgreSQL refuses replication to user " + user + " (SQLSTATE 42501): " + e.what() +
            "\nwhat to do: " + classify_pg_error(e.sqlstate(), e.origin()).advice +
            (member_of.empty() ? std::string()
                               : ". The user is a member of " + member_of +
                                     ", which grants replication on Amazon RDS and Aurora "
                                     "only: this server is not one"));
    }
    if (!attribute) {
        spdlog::info(
            "user {} has no REPLICATION attribute{}, and the server accepts its replication "
            "connection{}",
            user, member_of.empty() ? "" : " but is a member of " + member_of,
            member_of.empty() ? " (a managed service's own rule)" : " (Amazon RDS/Aurora)");
    }
    return replication;
}

}  // namespace pgcs::source
