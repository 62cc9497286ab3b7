// The on-demand snapshot request, checked and recorded; see snapshot_request.hpp.
#include "core/snapshot/snapshot_request.hpp"

#include <algorithm>
#include <vector>

#include "core/snapshot/snapshot_store.hpp"
#include "core/source/catalog.hpp"
#include "core/source/pg_connection.hpp"

namespace pgcs::snapshot {

RecordedRequest record_snapshot_request(PGconn* conn, const SnapshotRequest& r) {
    const std::string regclass =
        source::quote_ident(conn, r.schema) + "." + source::quote_ident(conn, r.name);
    const source::Catalog catalog(conn);
    if (catalog.server_version() < 140000) {
        throw RequestRefused("snapshots need PostgreSQL 14 or later (the server is " +
                                 std::to_string(catalog.server_version()) + ")",
                             1);
    }
    auto found = source::exec(conn, "SELECT to_regclass($1) IS NOT NULL", {regclass});
    if (std::string(PQgetvalue(found.get(), 0, 0)) != "t") {
        throw RequestRefused("--table " + r.table + ": there is no table " + regclass +
                                 " in database " + catalog.current_database() +
                                 " (a name without double quotes is folded to lower case: write "
                                 "'\"MySchema\".\"MyTable\"' for upper case); check the name",
                             2);
    }
    std::vector<source::TableName> resolved;
    try {
        resolved = catalog.resolve_tables({regclass});
    } catch (const source::PgError&) {
        throw;
    } catch (const std::exception& e) {
        throw RequestRefused(std::string("--table: ") + e.what(), 2);
    }
    const std::string quoted = resolved.front().quoted;
    const auto published = catalog.publication_tables(r.publication);
    if (std::none_of(published.begin(), published.end(),
                     [&](const source::TableName& t) { return t.quoted == quoted; })) {
        throw RequestRefused(quoted + " is not in publication " + r.publication +
                                 ": add it to postgres.tables and restart the daemon (it adds "
                                 "the table to the publication), then ask again",
                             2);
    }
    if (!r.condition.empty()) {
        try {
            source::exec(conn,
                         "EXPLAIN SELECT 1 FROM " + quoted + " WHERE (\n" + r.condition + "\n)");
        } catch (const source::PgError& e) {
            throw RequestRefused("--where is not a valid condition on " + quoted + ": " + e.what(),
                                 2);
        }
    }
    const std::string progress = source::quote_ident(conn, r.progress_schema) + "." +
                                 source::quote_ident(conn, r.progress_table);
    const SnapshotStore store(conn, progress, r.slot);
    store.ensure_table();
    store.request(quoted, r.condition);
    return {quoted, progress};
}

}  // namespace pgcs::snapshot
