// The PostgreSQL side of `pgchangeset status`; see source_status.hpp.
#include "core/source/source_status.hpp"

#include "core/source/catalog.hpp"
#include "core/source/failover_state.hpp"
#include "core/source/pg_connection.hpp"

namespace pgcs::source {

bool print_source_status(PGconn* conn, const SourceSettings& s, std::ostream& out) {
    // A standby has no WAL position of its own: the last one it replayed.
    const std::string wal_lsn =
        "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE "
        "pg_current_wal_lsn() END)";
    auto server = exec(conn,
                       "SELECT current_setting('server_version'), "
                       "current_setting('wal_level'), current_database(), " +
                           wal_lsn + "::text, pg_is_in_recovery()");
    out << "server_version: " << PQgetvalue(server.get(), 0, 0) << "\n";
    out << "wal_level: " << PQgetvalue(server.get(), 0, 1) << "\n";
    out << "database: " << PQgetvalue(server.get(), 0, 2) << "\n";
    out << "current_wal_lsn: " << PQgetvalue(server.get(), 0, 3) << "\n";
    const bool standby = std::string(PQgetvalue(server.get(), 0, 4)) == "t";
    out << "in_recovery: " << (standby ? "yes (a standby)" : "no") << "\n";

    auto slot = exec(conn,
                     "SELECT plugin, active, coalesce(active_pid::text, ''), "
                     "coalesce(confirmed_flush_lsn::text, ''), coalesce(restart_lsn::text, ''), "
                     "coalesce(wal_status, ''), "
                     "coalesce((" +
                         wal_lsn +
                         " - confirmed_flush_lsn)::int8::text, ''), "
                         "coalesce((" +
                         wal_lsn +
                         " - restart_lsn)::int8::text, '') "
                         "FROM pg_replication_slots WHERE slot_name = $1",
                     {s.slot});
    out << "slot: " << s.slot << "\n";
    const bool exists = PQntuples(slot.get()) == 1;
    out << "slot_exists: " << (exists ? "yes" : "no") << "\n";
    bool problem = false;
    if (exists) {
        const char* keys[] = {"slot_plugin",         "slot_active",       "slot_active_pid",
                              "confirmed_flush_lsn", "restart_lsn",       "wal_status",
                              "lag_bytes",           "retained_wal_bytes"};
        for (int i = 0; i < 8; ++i) {
            out << keys[i] << ": " << PQgetvalue(slot.get(), 0, i) << "\n";
        }
        if (std::string(PQgetvalue(slot.get(), 0, 5)) == "lost") {
            out << "problem: the slot was invalidated; its changes are lost. Drop it, "
                   "create a new one and snapshot again\n";
            problem = true;
        }
    } else {
        out << "problem: the slot does not exist; `pgchangeset run` creates it on its first "
               "start (postgres.create_slot)\n";
        problem = true;
    }

    if (s.failover && PQserverVersion(conn) < 170000) {
        out << "problem: postgres.failover needs PostgreSQL 17 or later: `run` refuses it "
               "(exit 2)\n";
        problem = true;
    } else if (s.failover && !standby) {
        const auto state = inspect_failover(conn, s.slot, s.connection);
        for (const auto& [key, value] : state.facts) {
            out << key << ": " << value << "\n";
        }
        for (const auto& p : state.problems) {
            out << "problem: failover: " << p << "\n";
            problem = true;
        }
        if (!state.copy_problem.empty()) {
            out << "problem: failover: " << state.copy_problem << "\n";
            problem = true;
        }
    }
    const Catalog catalog(conn);
    out << "publication: " << s.publication << "\n";
    const bool pub = catalog.publication_exists(s.publication);
    out << "publication_exists: " << (pub ? "yes" : "no") << "\n";
    if (pub) {
        std::string tables;
        for (const auto& t : catalog.publication_tables(s.publication)) {
            tables += (tables.empty() ? "" : ", ") + t.schema + "." + t.name;
        }
        out << "publication_tables: " << tables << "\n";
    }
    return problem;
}

}  // namespace pgcs::source
