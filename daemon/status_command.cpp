// The status command: the PostgreSQL side (core/source/source_status.hpp), the snapshots and
// the running daemon's halt, in one screen.
#include "daemon/status_command.hpp"

#include "core/snapshot/snapshot_store.hpp"
#include "core/source/pg_connection.hpp"
#include "core/source/source_status.hpp"
#include "daemon/halted_status.hpp"
#include "daemon/source_setup.hpp"

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
        source::SourceSettings s = source_settings_from(pg);
        s.connection.application_name = "pgchangeset-status";
        int rc = source::print_source_status(conn.get(), s, out) ? 1 : 0;
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
