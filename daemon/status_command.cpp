// The status command: server, slot, lag and publication facts in one screen.
#include "daemon/status_command.hpp"

#include "core/snapshot/snapshot_store.hpp"
#include "core/source/catalog.hpp"
#include "core/source/failover_state.hpp"
#include "core/source/pg_connection.hpp"
#include "daemon/halted_status.hpp"

namespace pgcs::daemon {

int run_status(const config::Config& config, std::ostream& out) {
    const auto& pg = config.postgres;
    source::PgConnPtr conn;
    try {
        conn = source::connect({pg.conninfo, pg.password, "pgchangeset-status"}, false);
    } catch (const source::PgError& e) {
        out << "error: " << e.what() << "\n";
        return 1;
    }
    try {
        // A standby has no WAL position of its own: the last one it replayed.
        const std::string wal_lsn =
            "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE "
            "pg_current_wal_lsn() END)";
        auto server = source::exec(conn.get(),
                                   "SELECT current_setting('server_version'), "
                                   "current_setting('wal_level'), current_database(), " +
                                       wal_lsn + "::text, pg_is_in_recovery()");
        out << "server_version: " << PQgetvalue(server.get(), 0, 0) << "\n";
        out << "wal_level: " << PQgetvalue(server.get(), 0, 1) << "\n";
        out << "database: " << PQgetvalue(server.get(), 0, 2) << "\n";
        out << "current_wal_lsn: " << PQgetvalue(server.get(), 0, 3) << "\n";
        const bool standby = std::string(PQgetvalue(server.get(), 0, 4)) == "t";
        out << "in_recovery: " << (standby ? "yes (a standby)" : "no") << "\n";

        auto slot = source::exec(
            conn.get(),
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
            {pg.slot});
        out << "slot: " << pg.slot << "\n";
        const bool exists = PQntuples(slot.get()) == 1;
        out << "slot_exists: " << (exists ? "yes" : "no") << "\n";
        int rc = 0;
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
                rc = 1;
            }
        } else {
            out << "problem: the slot does not exist; `pgchangeset run` creates it on its first "
                   "start (postgres.create_slot)\n";
            rc = 1;
        }

        if (pg.failover && PQserverVersion(conn.get()) < 170000) {
            out << "problem: postgres.failover needs PostgreSQL 17 or later: `run` refuses it "
                   "(exit 2)\n";
            rc = 1;
        } else if (pg.failover && !standby) {
            const auto state = source::inspect_failover(
                conn.get(), pg.slot, {pg.conninfo, pg.password, "pgchangeset-status"});
            for (const auto& [key, value] : state.facts) {
                out << key << ": " << value << "\n";
            }
            for (const auto& p : state.problems) {
                out << "problem: failover: " << p << "\n";
                rc = 1;
            }
            if (!state.copy_problem.empty()) {
                out << "problem: failover: " << state.copy_problem << "\n";
                rc = 1;
            }
        }
        const source::Catalog catalog(conn.get());
        out << "publication: " << pg.publication << "\n";
        const bool pub = catalog.publication_exists(pg.publication);
        out << "publication_exists: " << (pub ? "yes" : "no") << "\n";
        if (pub) {
            std::string tables;
            for (const auto& t : catalog.publication_tables(pg.publication)) {
                tables += (tables.empty() ? "" : ", ") + t.schema + "." + t.name;
            }
            out << "publication_tables: " << tables << "\n";
        }
        // One line per snapshot of this slot: table, state, rows so far.
        const auto& name = config.snapshot.table_name;
        const snapshot::SnapshotStore store(conn.get(),
                                            source::quote_ident(conn.get(), name.schema) + "." +
                                                source::quote_ident(conn.get(), name.table),
                                            pg.slot);
        if (store.table_exists()) {
            for (const auto& p : store.all()) {
                out << "snapshot: " << p.table << " " << p.state << " " << p.rows << " rows"
                    << (p.condition.empty() ? "" : " where " + p.condition) << "\n";
            }
        }
        if (print_halted(config.metrics.listen, out)) {
            rc = 1;
        }
        return rc;
    } catch (const std::exception& e) {
        out << "error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace pgcs::daemon
