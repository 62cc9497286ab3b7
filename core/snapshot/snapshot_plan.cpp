// SnapshotCoordinator, what to read: the plan at start (snapshot.mode, the exported snapshot
// for keyless tables), resuming, on-demand requests from the progress table, and a table's
// activation (description, types, encoding). The chunk flow is in snapshot_coordinator.cpp.
#include "core/snapshot/snapshot_coordinator.hpp"

#include <spdlog/spdlog.h>

#include "core/snapshot/condition_syntax.hpp"
#include "core/source/pg_error.hpp"
#include "core/source/replication_stream.hpp"
#include "core/source/stream_failure.hpp"

namespace pgcs::snapshot {

bool SnapshotCoordinator::plan(PGconn* catalog_conn, const source::Catalog& catalog,
                               bool slot_missing, const std::vector<source::TableName>& published) {
    const auto mode = settings_.mode;
    if (catalog.server_version() < 140000) {
        if (mode != SnapshotMode::Never) {
            throw source::StreamFailure(
                "snapshots need PostgreSQL 14 or later (their watermarks are logical decoding "
                "messages, which pgoutput sends from 14 on); the server is " +
                std::to_string(catalog.server_version()) + ": set snapshot.mode: never");
        }
        return false;
    }
    enabled_ = true;
    if (!pool_) {
        pool_.emplace(settings_.connection, settings_.connections);
    }
    progress_table_ = source::quote_ident(catalog_conn, settings_.progress_schema) + "." +
                      source::quote_ident(catalog_conn, settings_.progress_table);
    const SnapshotStore store(catalog_conn, progress_table_, settings_.slot);
    const std::string head = "snapshot (mode " + settings_.mode_name + "): ";
    if (mode == SnapshotMode::Never) {
        // The table is created by the first `pgchangeset snapshot` request.
        spdlog::info("{}none at start; requests of `pgchangeset snapshot` are read from {}", head,
                     progress_table_);
        return false;
    }
    std::size_t tables = 0;
    for (const auto& table : published) {
        tables += is_progress_table(table.schema, table.name) ? 0 : 1;
    }
    // Whether to read every table, and why (the log says both). Nothing is written, nor the
    // table created, unless there is something to read.
    const std::string slot = "slot " + settings_.slot;
    bool all = false;
    std::string why;
    try {
        if (mode == SnapshotMode::Always) {
            all = true;
            why = "every start reads every table";
        } else if (slot_missing) {
            all = true;
            why = slot + " is new";
        } else if (!store.table_exists()) {
            all = true;
            why = slot + " has no snapshot recorded (" + progress_table_ + " does not exist)";
        } else if (const auto recorded = store.summary(); recorded.tables == 0) {
            all = true;
            why = slot + " has no snapshot recorded in " + progress_table_;
        } else if (recorded.unfinished > 0) {
            spdlog::info("{}{} has a snapshot under way ({} of {} tables finished): resuming it",
                         head, slot, recorded.done + recorded.failed, recorded.tables);
        } else {
            spdlog::info(
                "{}{} already has its snapshot, completed at {} ({} tables done, {} failed, in "
                "{}): not reading again (`pgchangeset snapshot --table` reads a table again)",
                head, slot, recorded.last_update, recorded.done, recorded.failed, progress_table_);
        }
        if (all && tables == 0) {
            spdlog::info("{}{}, but the publication has no table to read", head, why);
            all = false;
        }
        if (all) {
            store.ensure_table();
            store.clear();
            for (const auto& table : published) {
                if (!is_progress_table(table.schema, table.name)) {
                    store.request(table.quoted, "");
                }
            }
            spdlog::info("{}{}: reading {} tables, progress in {}", head, why, tables,
                         progress_table_);
        }
    } catch (const source::PgError& e) {
        if (e.sqlstate() != source::sqlstate::kInsufficientPrivilege) {
            throw;
        }
        throw source::StreamFailure(
            "the daemon's user may not use the snapshot progress table " + progress_table_ + " (" +
            e.what() + "): GRANT SELECT, INSERT, UPDATE, DELETE ON " + progress_table_ +
            " TO <user>, or point snapshot.table at a table of its own (README, \"Managed "
            "PostgreSQL and least privilege\"), or set snapshot.mode: never");
    }
    exported_.clear();
    if (all && slot_missing) {
        ensure_reader();
        for (const auto& table : published) {
            if (is_progress_table(table.schema, table.name)) {
                continue;
            }
            auto description = reader_->describe(table.quoted, settings_.publication);
            if (!description.keyed()) {
                exported_.push_back({std::move(description), 0});
            }
        }
    }
    return !exported_.empty();
}

void SnapshotCoordinator::copy_exported(const source::ExportedSnapshot& exported,
                                        const std::function<void(PendingChunk& rows)>& emit) {
    ensure_reader();
    for (auto& t : exported_) {
        spdlog::info(
            "snapshot of {}: no primary key or replica identity index, so it is read whole "
            "under the new slot's exported snapshot {} before streaming starts",
            t.description.quoted, exported.name);
        PendingChunk batch;
        batch.table = t.description.quoted;
        batch.relation =
            &relations_.define(t.description.relation(), t.description.primary_key, types_);
        batch.read_time = source::pg_now();
        reader_->read_exported(
            t.description, exported.name, settings_.chunk_size, [&](source::PgResultPtr rows) {
                const auto n = PQntuples(rows.get());
                batch.chunk.rows = std::move(rows);
                batch.dropped.assign(static_cast<std::size_t>(n), false);
                emit(batch);
                t.rows += n;
                if (hooks_.rows_published) {
                    hooks_.rows_published(batch.table, static_cast<std::uint64_t>(n));
                }
            });
    }
}

void SnapshotCoordinator::finish_exported(PGconn* catalog_conn) {
    const SnapshotStore store(catalog_conn, progress_table_, settings_.slot);
    const auto rows = store.unfinished();
    for (const auto& t : exported_) {
        for (const auto& p : rows) {
            if (p.table == t.description.quoted) {
                store.save(p.table, p.generation, {}, t.rows, true);
                spdlog::info("snapshot of {} complete: {} rows", p.table, t.rows);
                finished_rows_ += t.rows;
            }
        }
    }
    exported_.clear();
}

void SnapshotCoordinator::resume(PGconn* catalog_conn, const source::Catalog& catalog) {
    if (!enabled_) {
        return;
    }
    load_requests(catalog_conn, catalog);
    if (!tables_.empty()) {
        spdlog::info("snapshot: {} tables to read (progress in {})", tables_.size(),
                     progress_table_);
    }
}

void SnapshotCoordinator::load_requests(PGconn* catalog_conn, const source::Catalog& catalog) {
    const SnapshotStore store(catalog_conn, progress_table_, settings_.slot);
    std::vector<TableProgress> rows;
    try {
        if (!store.table_exists()) {  // needs USAGE on the schema
            return;
        }
        rows = store.unfinished();
    } catch (const source::PgError& e) {
        // Someone else's table (snapshot.mode never needs none of its own): no request can
        // reach this daemon, which streams on.
        if (e.sqlstate() != source::sqlstate::kInsufficientPrivilege) {
            throw;
        }
        if (!requests_denied_) {
            spdlog::warn(
                "cannot read snapshot requests from {} ({}): `pgchangeset snapshot` requests "
                "cannot reach this daemon until its user may read and write that table, or "
                "snapshot.table names one it may (README, \"Managed PostgreSQL and least "
                "privilege\")",
                progress_table_, e.what());
            requests_denied_ = true;
        }
        return;
    }
    for (const auto& p : rows) {
        const auto it = tables_.find(p.table);
        if (it != tables_.end() && it->second.progress.generation == p.generation) {
            continue;
        }
        if (it != tables_.end()) {
            spdlog::info("snapshot of {} requested again: starting over", p.table);
            drop_pending(p.table);
            tables_.erase(it);
        }
        activate(p, catalog);
    }
    // A row deleted or finished by hand: that snapshot is cancelled.
    for (auto it = tables_.begin(); it != tables_.end();) {
        const bool listed = std::any_of(rows.begin(), rows.end(),
                                        [&](const auto& p) { return p.table == it->first; });
        if (!listed && !it->second.read_all) {
            spdlog::warn("snapshot of {} cancelled (its row in {} is gone or finished)", it->first,
                         progress_table_);
            drop_pending(it->first);
            it = tables_.erase(it);
        } else {
            ++it;
        }
    }
    if (hooks_.tables_remaining) {
        hooks_.tables_remaining(tables_.size());
    }
}

void SnapshotCoordinator::activate(const TableProgress& p, const source::Catalog& catalog) {
    ensure_reader();
    ActiveTable t;
    t.progress = p;
    t.rows_published = p.rows;
    t.rows_saved = p.rows;
    try {
        // A condition recorded without `snapshot` (by hand) is checked as that command does.
        if (auto error = condition_syntax_error(p.condition)) {
            throw std::runtime_error(*error + "; then request the snapshot again");
        }
        t.description = reader_->describe(p.table, settings_.publication);
        reader_->fix_end(t.description);
        for (const auto& c : t.description.columns) {
            if (!catalog.resolve_type(c.type_oid, types_)) {
                throw std::runtime_error("type OID " + std::to_string(c.type_oid) + " of " +
                                         p.table + " is not in pg_type (dropped meanwhile?)");
            }
        }
        t.relation =
            &relations_.define(t.description.relation(), t.description.primary_key, types_);
        auto encoding = std::make_shared<TableEncoding>();
        encoding->types = types_;
        encoding->format = settings_.format;
        encoding->relation = &encoding->relations.define(
            t.description.relation(), t.description.primary_key, encoding->types);
        if (settings_.format.format == encode::Format::Debezium) {  // its schemas' "optional"
            const auto not_null = catalog.not_null_columns(t.description.oid);
            relations_.set_not_null(t.description.oid, not_null);
            encoding->relations.set_not_null(t.description.oid, not_null);
            if (const auto key = catalog.primary_or_unique_key(t.description.oid)) {  // its key
                relations_.set_format_key(t.description.oid, *key);
                encoding->relations.set_format_key(t.description.oid, *key);
            }
        }
        t.encoding = std::move(encoding);
        auto est = source::exec(reader_->conn(),
                                "SELECT greatest(reltuples, 0)::int8 FROM pg_class WHERE oid = "
                                "$1::oid",
                                {std::to_string(t.description.oid)});
        t.estimated_rows = std::stoll(PQgetvalue(est.get(), 0, 0));
    } catch (const source::PgError& e) {
        if (source::classify_pg_error(e).connection_lost) {
            reader_.reset();
            throw;  // the connection: retried by the loop
        }
        spdlog::error("snapshot of {} failed: {}", p.table, e.what());
        SnapshotStore(reader_->conn(), progress_table_, settings_.slot)
            .fail(p.table, p.generation, e.what());
        ++failed_;
        return;
    } catch (const std::exception& e) {
        spdlog::error("snapshot of {} failed: {}", p.table, e.what());
        SnapshotStore(reader_->conn(), progress_table_, settings_.slot)
            .fail(p.table, p.generation, e.what());
        ++failed_;
        return;
    }
    if (!t.description.keyed()) {
        spdlog::warn(
            "snapshot of {}: the table has no primary key or replica identity index, so it is "
            "read by ranges of blocks and its rows cannot be matched with changes made during "
            "the snapshot: a row changed meanwhile can be published twice, as read and as "
            "changed (README, Snapshots)",
            p.table);
    }
    spdlog::info(
        "snapshot of {}{}{}: {} (about {} rows)", p.table, p.condition.empty() ? "" : " where ",
        p.condition,
        p.last_key.empty() ? "from the first row" : "resuming after the last acknowledged chunk",
        t.estimated_rows);
    saves_.start(p.table, p.generation);
    tables_.emplace(p.table, std::move(t));
}

void SnapshotCoordinator::ensure_reader() {
    if (!reader_ || PQstatus(reader_->conn()) != CONNECTION_OK) {
        reader_.reset();
        reader_.emplace(source::connect(settings_.connection, false));
    }
}

}  // namespace pgcs::snapshot
