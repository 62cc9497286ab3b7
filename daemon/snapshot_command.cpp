// The on-demand snapshot request; see snapshot_command.hpp.
#include "daemon/snapshot_command.hpp"

#include <algorithm>

#include "config/value_rules.hpp"
#include "core/snapshot/condition_syntax.hpp"
#include "core/snapshot/snapshot_store.hpp"
#include "core/source/catalog.hpp"
#include "core/source/pg_connection.hpp"

namespace pgcs::daemon {
namespace {

// A name as a double-quoted SQL identifier, e.g. "My ""odd"" name".
std::string quoted_identifier(const std::string& name) {
    std::string out = "\"";
    for (char c : name) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

}  // namespace

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
    const std::string regclass =
        quoted_identifier(name->schema) + "." + quoted_identifier(name->table);
    try {
        source::PgConnPtr conn =
            source::connect({pg.conninfo, pg.password, "pgchangeset-snapshot-request"}, false);
        const source::Catalog catalog(conn.get());
        if (catalog.server_version() < 140000) {
            err << "pgchangeset: snapshots need PostgreSQL 14 or later (the server is "
                << catalog.server_version() << ")\n";
            return 1;
        }
        auto found = source::exec(conn.get(), "SELECT to_regclass($1) IS NOT NULL", {regclass});
        if (std::string(PQgetvalue(found.get(), 0, 0)) != "t") {
            err << "pgchangeset: --table " << table << ": there is no table " << regclass
                << " in database " << catalog.current_database()
                << " (a name without double quotes is folded to lower case: write "
                   "'\"MySchema\".\"MyTable\"' for upper case); check the name\n";
            return 2;
        }
        std::vector<source::TableName> resolved;
        try {
            resolved = catalog.resolve_tables({regclass});
        } catch (const source::PgError&) {
            throw;
        } catch (const std::exception& e) {
            err << "pgchangeset: --table: " << e.what() << "\n";
            return 2;
        }
        const std::string quoted = resolved.front().quoted;
        const auto published = catalog.publication_tables(pg.publication);
        if (std::none_of(published.begin(), published.end(),
                         [&](const source::TableName& t) { return t.quoted == quoted; })) {
            err << "pgchangeset: " << quoted << " is not in publication " << pg.publication
                << ": add it to postgres.tables and restart the daemon (it adds the table to "
                   "the publication), then ask again\n";
            return 2;
        }
        if (!condition.empty()) {
            try {
                source::exec(conn.get(),
                             "EXPLAIN SELECT 1 FROM " + quoted + " WHERE (\n" + condition + "\n)");
            } catch (const source::PgError& e) {
                err << "pgchangeset: --where is not a valid condition on " << quoted << ": "
                    << e.what() << "\n";
                return 2;
            }
        }
        const auto& name = config.snapshot.table_name;
        const std::string progress = source::quote_ident(conn.get(), name.schema) + "." +
                                     source::quote_ident(conn.get(), name.table);
        const snapshot::SnapshotStore store(conn.get(), progress, pg.slot);
        store.ensure_table();
        store.request(quoted, condition);
        out << "snapshot of " << quoted << (condition.empty() ? "" : " where " + condition)
            << " requested for slot " << pg.slot
            << ": the running daemon starts it within a second, while it streams.\n"
            << "progress: SELECT state, rows_done, message FROM " << progress
            << " WHERE slot_name = '" << pg.slot << "';\n";
        return 0;
    } catch (const std::exception& e) {
        err << "pgchangeset: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace pgcs::daemon
