// Snapshot chunks, their watermarks and their progress; see snapshot_coordinator.hpp.
#include "daemon/snapshot_coordinator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>

#include "core/source/replication_stream.hpp"
#include "daemon/source_setup.hpp"

namespace pgcs::daemon {

namespace {

using Clock = std::chrono::steady_clock;

// Chunks read ahead while earlier ones wait for their watermark: per table, and in all (memory
// is at most kMaxPendingChunks chunks).
constexpr int kMaxChunksPerTable = 4;
constexpr std::size_t kMaxPendingChunks = 8;

std::string make_run_id() {
    std::random_device rd;
    const std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) | rd();
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

const char* mode_name(config::SnapshotMode mode) {
    switch (mode) {
        case config::SnapshotMode::Initial:
            return "initial";
        case config::SnapshotMode::Never:
            return "never";
        case config::SnapshotMode::InitialOnly:
            return "initial_only";
        case config::SnapshotMode::Always:
            return "always";
    }
    return "?";
}

}  // namespace

SnapshotCoordinator::SnapshotCoordinator(const config::Config& config,
                                         changeset::TypeRegistry& types, Hooks hooks)
    : config_(config),
      types_(types),
      hooks_(std::move(hooks)),
      settings_{config.postgres.conninfo, config.postgres.password, "pgchangeset-snapshot"},
      run_id_(make_run_id()) {}

bool SnapshotCoordinator::is_progress_table(std::string_view schema, std::string_view name) const {
    return schema == config_.snapshot.table_name.schema &&
           name == config_.snapshot.table_name.table;
}

bool SnapshotCoordinator::plan(PGconn* catalog_conn, const source::Catalog& catalog,
                               bool slot_missing, const std::vector<source::TableName>& published) {
    const auto mode = config_.snapshot.mode;
    if (catalog.server_version() < 140000) {
        if (mode != config::SnapshotMode::Never) {
            throw StreamFailure(
                "snapshots need PostgreSQL 14 or later (their watermarks are logical decoding "
                "messages, which pgoutput sends from 14 on); the server is " +
                std::to_string(catalog.server_version()) + ": set snapshot.mode: never");
        }
        return false;
    }
    enabled_ = true;
    if (!pool_) {
        pool_.emplace(settings_, config_.snapshot.connections);
    }
    progress_table_ = source::quote_ident(catalog_conn, config_.snapshot.table_name.schema) + "." +
                      source::quote_ident(catalog_conn, config_.snapshot.table_name.table);
    const snapshot::SnapshotStore store(catalog_conn, progress_table_, config_.postgres.slot);
    if (mode == config::SnapshotMode::Never) {
        return false;  // the table is created by the first `pgchangeset snapshot` request
    }
    try {
        store.ensure_table();
    } catch (const source::PgError& e) {
        if (e.sqlstate() != "42501") {
            throw;
        }
        throw StreamFailure("cannot create the snapshot progress table " + progress_table_ + " (" +
                            e.what() +
                            "): grant CREATE on its schema to the daemon's user, or point "
                            "snapshot.table at a schema it may create in, or set snapshot.mode: "
                            "never");
    }
    bool all = false;
    switch (mode) {
        case config::SnapshotMode::Initial:
            all = slot_missing;
            break;
        case config::SnapshotMode::Always:
            all = true;
            break;
        case config::SnapshotMode::InitialOnly:
            all = slot_missing || !store.any();
            break;
        case config::SnapshotMode::Never:
            break;
    }
    if (all) {
        store.clear();
        std::size_t n = 0;
        for (const auto& table : published) {
            if (is_progress_table(table.schema, table.name)) {
                continue;
            }
            store.request(table.quoted, "");
            ++n;
        }
        spdlog::info("snapshot (mode {}): {} tables to read, progress in {}", mode_name(mode), n,
                     progress_table_);
    }
    exported_.clear();
    if (all && slot_missing) {
        ensure_reader();
        for (const auto& table : published) {
            if (is_progress_table(table.schema, table.name)) {
                continue;
            }
            auto description = reader_->describe(table.quoted, config_.postgres.publication);
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
        reader_->read_exported(t.description, exported.name, config_.snapshot.chunk_size,
                               [&](source::PgResultPtr rows) {
                                   const auto n = PQntuples(rows.get());
                                   batch.chunk.rows = std::move(rows);
                                   batch.dropped.assign(static_cast<std::size_t>(n), false);
                                   emit(batch);
                                   t.rows += n;
                                   if (hooks_.rows_published) {
                                       hooks_.rows_published(batch.table,
                                                             static_cast<std::uint64_t>(n));
                                   }
                               });
    }
}

void SnapshotCoordinator::finish_exported(PGconn* catalog_conn) {
    const snapshot::SnapshotStore store(catalog_conn, progress_table_, config_.postgres.slot);
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
    const snapshot::SnapshotStore store(catalog_conn, progress_table_, config_.postgres.slot);
    if (!store.table_exists()) {
        return;
    }
    const auto rows = store.unfinished();
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

void SnapshotCoordinator::activate(const snapshot::TableProgress& p,
                                   const source::Catalog& catalog) {
    ensure_reader();
    ActiveTable t;
    t.progress = p;
    t.rows_published = p.rows;
    t.rows_saved = p.rows;
    try {
        t.description = reader_->describe(p.table, config_.postgres.publication);
        for (const auto& c : t.description.columns) {
            catalog.resolve_type(c.type_oid, types_);
        }
        t.relation =
            &relations_.define(t.description.relation(), t.description.primary_key, types_);
        auto encoding = std::make_shared<snapshot::TableEncoding>();
        encoding->types = types_;
        encoding->relation = &encoding->relations.define(
            t.description.relation(), t.description.primary_key, encoding->types);
        t.encoding = std::move(encoding);
        auto est = source::exec(reader_->conn(),
                                "SELECT greatest(reltuples, 0)::int8 FROM pg_class WHERE oid = "
                                "$1::oid",
                                {std::to_string(t.description.oid)});
        t.estimated_rows = std::stoll(PQgetvalue(est.get(), 0, 0));
    } catch (const source::PgError& e) {
        if (e.sqlstate().empty() || e.sqlstate().rfind("08", 0) == 0) {
            reader_.reset();
            throw;  // the connection: retried by the loop
        }
        spdlog::error("snapshot of {} failed: {}", p.table, e.what());
        snapshot::SnapshotStore(reader_->conn(), progress_table_, config_.postgres.slot)
            .fail(p.table, p.generation, e.what());
        ++failed_;
        return;
    } catch (const std::exception& e) {
        spdlog::error("snapshot of {} failed: {}", p.table, e.what());
        snapshot::SnapshotStore(reader_->conn(), progress_table_, config_.postgres.slot)
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
    tables_.emplace(p.table, std::move(t));
}

void SnapshotCoordinator::ensure_reader() {
    if (!reader_ || PQstatus(reader_->conn()) != CONNECTION_OK) {
        reader_.reset();
        reader_.emplace(source::connect(settings_, false));
    }
}

void SnapshotCoordinator::drop_pending(const std::string& table) {
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.table == table) {
            it = pending_.erase(it);
        } else {
            ++it;
        }
    }
    std::erase_if(saves_, [&](const Save& s) { return s.table == table; });
    std::erase_if(dispatched_, [&](const auto& d) { return d.second.table == table; });
    rewatch();
}

void SnapshotCoordinator::rewatch() {
    watched_.clear();
    for (const auto& [id, c] : pending_) {
        ++watched_[c.relation->oid];
    }
    for (const auto& [id, d] : dispatched_) {
        ++watched_[d.oid];
    }
}

void SnapshotCoordinator::poll(PGconn* catalog_conn, const source::Catalog& catalog) {
    if (!enabled_) {
        return;
    }
    const auto now = Clock::now();
    if (now >= next_request_check_) {
        next_request_check_ = now + std::chrono::seconds(1);
        load_requests(catalog_conn, catalog);
    }
    if (!pool_) {
        return;
    }
    while (auto result = pool_->take()) {
        register_result(catalog_conn, std::move(*result));
    }
    if (now >= retry_after_) {
        dispatch();
    }
}

void SnapshotCoordinator::dispatch() {
    // Round robin over the tables with room, after the one dispatched last.
    for (std::size_t tries = 0; tries < tables_.size(); ++tries) {
        if (pending_.size() + dispatched_.size() >= kMaxPendingChunks ||
            dispatched_.size() >= pool_->threads()) {
            return;
        }
        auto it = tables_.upper_bound(round_robin_);
        if (it == tables_.end()) {
            it = tables_.begin();
        }
        round_robin_ = it->first;
        ActiveTable& t = it->second;
        if (t.in_flight >= kMaxChunksPerTable || t.relation == nullptr) {
            continue;
        }
        using Range = snapshot::ChunkPool::Task::Range;
        ChunkRange range;
        if (!t.retries.empty()) {
            range = std::move(t.retries.front());
            t.retries.pop_front();
        } else if (t.read_all || t.reading) {
            continue;  // the next chunk starts where the one being read ends
        } else {
            range.sequence = t.next_sequence++;
            range.after = t.progress.last_key;
            // A chunk of a keyed table finds where it ends first, unless a condition or row
            // filter makes the rows sparse in the key's index: it then reads `limit` rows.
            range.range = t.description.keyed() && t.description.row_filter.empty() &&
                                  t.progress.condition.empty()
                              ? Range::FindUpper
                              : Range::Limit;
        }
        if (range.range == Range::Limit || range.range == Range::FindUpper) {
            t.reading = true;
        }
        snapshot::ChunkPool::Task task;
        task.id = next_chunk_++;
        task.table = t.description;
        task.condition = t.progress.condition;
        task.after = range.after;
        task.limit = config_.snapshot.chunk_size;
        task.range = range.range;
        task.upper = range.upper;
        task.watermark = config_.postgres.slot + "/" + run_id_ + "/" + std::to_string(task.id);
        task.encoding = t.encoding;
        dispatched_[task.id] = {t.progress.table, t.progress.generation,
                                t.relation->oid,  change_log_base_ + change_log_.size(),
                                recent_.added(),  std::move(range)};
        ++watched_[t.relation->oid];
        ++t.in_flight;
        t.most_reads = std::max(t.most_reads, ++t.reads);
        pool_->submit(std::move(task));
    }
}

void SnapshotCoordinator::apply_bound(Dispatched& d, const std::vector<std::string>& upper) {
    using Range = snapshot::ChunkPool::Task::Range;
    if (d.range.range != Range::FindUpper) {
        return;  // already known (the bound's own result came first)
    }
    d.range.range = upper.empty() ? Range::ToEnd : Range::UpTo;
    d.range.upper = upper;
    const auto t = tables_.find(d.table);
    if (t == tables_.end() || t->second.progress.generation != d.generation) {
        return;
    }
    ActiveTable& table = t->second;
    table.reading = false;  // the next chunk can start: after this one's end
    if (upper.empty()) {
        table.read_all = true;
    } else {
        table.progress.last_key = upper;
    }
}

void SnapshotCoordinator::register_result(PGconn* catalog_conn,
                                          snapshot::ChunkPool::Result result) {
    using Range = snapshot::ChunkPool::Task::Range;
    const auto d = dispatched_.find(result.id);
    if (d == dispatched_.end()) {
        return;
    }
    if (result.has_bound) {
        apply_bound(d->second, result.upper);
    }
    if (result.bound_only) {
        return;
    }
    const Dispatched info = d->second;
    dispatched_.erase(d);
    const auto t = tables_.find(info.table);
    const bool current = t != tables_.end() && t->second.progress.generation == info.generation;
    const bool passed = watermark_passed_.erase(result.id) > 0;
    if (current) {
        --t->second.in_flight;
        --t->second.reads;
        if (info.range.range == Range::Limit || info.range.range == Range::FindUpper) {
            t->second.reading = false;  // read again (retry) or, for Limit, moved on below
        }
    }
    // The same rows again, before any new chunk of the table (its progress waits for them).
    auto read_again = [&] { t->second.retries.push_back(info.range); };
    auto finish = [&] {
        rewatch();
        if (dispatched_.empty()) {  // no read in flight: the change log is not needed
            change_log_base_ += change_log_.size();
            change_log_.clear();
        }
    };
    if (!current || passed) {
        if (current) {
            read_again();  // its watermark went by without it
        }
        finish();  // or requested again meanwhile
        return;
    }
    ActiveTable& table = t->second;
    if (!result.chunk) {
        const std::string& state = result.sqlstate;
        if (!result.permanent &&
            (state.empty() || state.rfind("08", 0) == 0 || state.rfind("57", 0) == 0 ||
             state == "40001" || state == "40P01")) {
            spdlog::warn("snapshot chunk of {} failed ({}); reading it again in a second",
                         info.table, result.error);
            read_again();
            retry_after_ = Clock::now() + std::chrono::seconds(1);
        } else {
            // The request cannot be read (a bad condition, the table changed): say so, go on.
            spdlog::error("snapshot of {} failed: {}", info.table, result.error);
            if (catalog_conn == nullptr) {
                ensure_reader();
                catalog_conn = reader_->conn();
            }
            snapshot::SnapshotStore(catalog_conn, progress_table_, config_.postgres.slot)
                .fail(info.table, info.generation, result.error);
            ++failed_;
            drop_pending(info.table);
            tables_.erase(t);
        }
        finish();
        return;
    }
    if (recent_.any_published_while_running(result.chunk->snapshot, info.published_before)) {
        // A transaction already published was still running for this snapshot: the chunk
        // may miss its changes. Read it again in a moment.
        spdlog::debug(
            "snapshot chunk of {} read while a published transaction was still finishing: "
            "reading it again",
            info.table);
        read_again();
        retry_after_ = Clock::now() + std::chrono::milliseconds(20);
        finish();
        return;
    }
    PendingChunk pc;
    pc.id = result.id;
    pc.table = info.table;
    pc.generation = info.generation;
    pc.relation = table.relation;
    pc.sequence = info.range.sequence;
    pc.chunk = std::move(*result.chunk);
    pc.read_time = source::pg_now();
    const std::size_t n = pc.chunk.encoded.size();
    pc.dropped.assign(n, false);
    // Changes the stream processed since the read began win over the chunk's rows.
    for (std::size_t i = std::max(info.log_position, change_log_base_) - change_log_base_;
         i < change_log_.size(); ++i) {
        const auto& [oid, key] = change_log_[i];
        if (oid != info.oid) {
            continue;
        }
        if (key.empty()) {  // TRUNCATE
            pc.dropped.assign(pc.dropped.size(), true);
        } else if (const auto row = pc.chunk.rows_by_key.find(key)) {
            pc.dropped[*row] = true;
        }
    }
    if (info.range.range == Range::Limit) {  // the next chunk starts after this one's last row
        table.progress.last_key = pc.chunk.last_key;
        table.read_all = pc.chunk.last;
    }
    ++table.in_flight;
    spdlog::debug("snapshot chunk {} of {}: {} rows{}", pc.id, pc.table, n,
                  pc.chunk.last ? " (last)" : "");
    pending_.emplace(pc.id, std::move(pc));
    finish();
}

void SnapshotCoordinator::on_change(std::uint32_t relation_oid, std::string_view key_json) {
    if (key_json.empty()) {
        return;
    }
    for (auto& [id, c] : pending_) {
        if (c.relation->oid != relation_oid) {
            continue;
        }
        if (const auto row = c.chunk.rows_by_key.find(key_json)) {
            c.dropped[*row] = true;
        }
    }
    log_change(relation_oid, key_json);
}

void SnapshotCoordinator::on_truncate(std::uint32_t relation_oid) {
    for (auto& [id, c] : pending_) {
        if (c.relation->oid == relation_oid) {
            c.dropped.assign(c.dropped.size(), true);
        }
    }
    log_change(relation_oid, {});
}

void SnapshotCoordinator::log_change(std::uint32_t relation_oid, std::string_view key_json) {
    for (const auto& [id, d] : dispatched_) {
        if (d.oid == relation_oid) {
            change_log_.emplace_back(relation_oid, std::string(key_json));
            return;
        }
    }
}

SnapshotCoordinator::PendingChunk* SnapshotCoordinator::on_watermark(std::string_view content) {
    const std::string expected = config_.postgres.slot + "/" + run_id_ + "/";
    if (content.substr(0, expected.size()) != expected) {
        return nullptr;
    }
    std::uint64_t id = 0;
    const auto digits = content.substr(expected.size());
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) {
        return nullptr;
    }
    if (dispatched_.contains(id) && pool_) {
        // Its reader thread wrote the watermark and is handing the result over right now.
        if (auto result = pool_->wait_for(id, config_.postgres.read_timeout_ms)) {
            register_result(nullptr, std::move(*result));
        } else {
            spdlog::warn(
                "snapshot chunk {}: its watermark arrived but not its rows; reading it "
                "again",
                id);
            watermark_passed_.insert(id);
        }
    }
    const auto it = pending_.find(id);
    return it == pending_.end() ? nullptr : &it->second;
}

void SnapshotCoordinator::on_chunk_published(PendingChunk* chunk, std::uint64_t end_lsn,
                                             std::uint64_t rows) {
    const auto t = tables_.find(chunk->table);
    if (t != tables_.end() && t->second.progress.generation == chunk->generation) {
        t->second.rows_published += static_cast<std::int64_t>(rows);
        --t->second.in_flight;
        saves_.push_back({end_lsn, chunk->table, chunk->generation, chunk->sequence,
                          chunk->chunk.last_key, static_cast<std::int64_t>(rows),
                          chunk->chunk.last});
    }
    if (hooks_.rows_published) {
        hooks_.rows_published(chunk->table, rows);
    }
    pending_.erase(chunk->id);
    rewatch();
}

void SnapshotCoordinator::on_flushed(PGconn* catalog_conn, std::uint64_t flush_lsn) {
    // A chunk's progress is saved once Kafka acknowledged it and every earlier chunk of its
    // table: a saved key must never pass rows not yet acknowledged.
    std::optional<snapshot::SnapshotStore> store;
    for (bool saved = true; saved;) {
        saved = false;
        for (auto it = saves_.begin(); it != saves_.end(); ++it) {
            if (it->end_lsn > flush_lsn) {
                continue;
            }
            const auto t = tables_.find(it->table);
            if (t == tables_.end() || t->second.progress.generation != it->generation) {
                saves_.erase(it);  // requested again or cancelled meanwhile
                saved = true;
                break;
            }
            if (it->sequence != t->second.next_save) {
                continue;  // an earlier chunk of the table is not acknowledged yet
            }
            if (!store) {
                store.emplace(catalog_conn, progress_table_, config_.postgres.slot);
            }
            t->second.rows_saved += it->rows;
            store->save(it->table, it->generation, it->last_key, t->second.rows_saved, it->done);
            ++t->second.next_save;
            if (it->done) {
                spdlog::info(
                    "snapshot of {} complete: {} rows; {} chunks read in this run, up to {} at "
                    "once",
                    it->table, t->second.rows_saved, t->second.next_sequence, t->second.most_reads);
                finished_rows_ += t->second.rows_published;
                tables_.erase(t);
                if (hooks_.tables_remaining) {
                    hooks_.tables_remaining(tables_.size());
                }
            }
            saves_.erase(it);
            saved = true;
            break;
        }
    }
}

std::pair<std::int64_t, std::int64_t> SnapshotCoordinator::row_progress() const {
    std::int64_t done = finished_rows_;
    std::int64_t total = finished_rows_;
    for (const auto& [name, t] : tables_) {
        done += t.rows_published;
        total += std::max(t.estimated_rows, t.rows_published);
    }
    return {done, total};
}

}  // namespace pgcs::daemon
