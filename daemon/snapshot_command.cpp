// The on-demand snapshot request: the arguments checked before anything connects, the rest
// in core/snapshot/snapshot_request.hpp; see snapshot_command.hpp.
#include "daemon/snapshot_command.hpp"

#include "config/value_rules.hpp"
#include "core/snapshot/condition_syntax.hpp"
#include "core/snapshot/snapshot_request.hpp"
#include "core/source/pg_connection.hpp"

namespace pgcs::daemon {

int run_snapshot_request(const config::Config& config, const std::string& table,
                         const std::string& condition, std::ostream& out, std::ostream& err) {
    const auto& pg = config.postgres;
    // The name is checked before anything connects: PostgreSQL's own errors for a bad name
    // ("improper relation name") say less, and exited 1 as if the server had failed.
    std::string name_error;
    const std::optional<config::TableName> name =
        config::detail::parse_table_name(table, name_error);
    if (!name) {
        err << "pgchangeset: --table: " << name_error << "\n";
        return 2;
    }
    // The condition's shape is checked before anything connects, and PostgreSQL checks it as
    // an expression below: nothing is recorded unless both pass.
    if (auto error = snapshot::condition_syntax_error(condition)) {
        err << "pgchangeset: " << *error << "\n";
        return 2;
    }
    try {
        source::PgConnPtr conn =
            source::connect({pg.conninfo, pg.password, "pgchangeset-snapshot-request"}, false);
        const auto recorded = snapshot::record_snapshot_request(
            conn.get(), {table, name->schema, name->table, condition, pg.publication, pg.slot,
                         config.snapshot.table_name.schema, config.snapshot.table_name.table});
        const std::string& quoted = recorded.quoted;
        const std::string& progress = recorded.progress;
        out << "snapshot of " << quoted << (condition.empty() ? "" : " where " + condition)
            << " requested for slot " << pg.slot
            << ": the running daemon starts it within a second, while it streams.\n"
            << "progress: SELECT state, rows_done, message FROM " << progress
            << " WHERE slot_name = '" << pg.slot << "';\n";
        return 0;
    } catch (const snapshot::RequestRefused& e) {
        err << "pgchangeset: " << e.what() << "\n";
        return e.exit_code();
    } catch (const std::exception& e) {
        err << "pgchangeset: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace pgcs::daemon
