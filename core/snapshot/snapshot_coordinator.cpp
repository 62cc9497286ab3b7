// Snapshot chunks, their watermarks and their progress; see snapshot_coordinator.hpp.
#include "core/snapshot/snapshot_coordinator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/snapshot/chunk_progress.hpp"
#include "core/source/pg_error.hpp"
#include "core/source/replication_stream.hpp"

namespace pgcs::snapshot {

namespace {

using Clock = std::chrono::steady_clock;

// Chunks read ahead while earlier ones wait for their watermark: per table, and in all (memory
// is at most kMaxPendingChunks chunks).
constexpr int kMaxChunksPerTable = 4;
constexpr std::size_t kMaxPendingChunks = 8;

}  // namespace

SnapshotCoordinator::SnapshotCoordinator(SnapshotSettings settings, changeset::TypeRegistry& types,
                                         Hooks hooks)
    : settings_(std::move(settings)),
      types_(types),
      hooks_(std::move(hooks)),
      watermark_(settings_.slot, Watermark::new_run_id()) {}

bool SnapshotCoordinator::is_progress_table(std::string_view schema, std::string_view name) const {
    return schema == settings_.progress_schema && name == settings_.progress_table;
}

void SnapshotCoordinator::drop_pending(const std::string& table) {
    std::erase_if(pending_, [&](const auto& p) {
        if (p.second.table != table) {
            return false;
        }
        window_.close(p.first);
        return true;
    });
    saves_.stop(table);
    std::erase_if(dispatched_, [&](const auto& d) {
        if (d.second.table != table) {
            return false;
        }
        window_.close(d.first);
        return true;
    });
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
        using Range = ChunkPool::Task::Range;
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
        ChunkPool::Task task;
        task.id = next_chunk_++;
        task.table = t.description;
        task.condition = t.progress.condition;
        task.after = range.after;
        task.limit = settings_.chunk_size;
        task.range = range.range;
        task.upper = range.upper;
        task.watermark = watermark_.content(task.id);
        task.encoding = t.encoding;
        dispatched_[task.id] = {t.progress.table, t.progress.generation, recent_.added(),
                                std::move(range)};
        window_.open(task.id, t.relation->oid);
        ++t.in_flight;
        t.most_reads = std::max(t.most_reads, ++t.reads);
        pool_->submit(std::move(task));
    }
}

void SnapshotCoordinator::apply_bound(Dispatched& d, const std::vector<std::string>& upper) {
    using Range = ChunkPool::Task::Range;
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

void SnapshotCoordinator::register_result(PGconn* catalog_conn, ChunkPool::Result result) {
    using Range = ChunkPool::Task::Range;
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
    // These rows are not published: read again, failed, or requested again meanwhile.
    auto close_window = [&] { window_.close(result.id); };
    if (!current || passed) {
        if (current) {
            read_again();  // its watermark went by without it
        }
        close_window();
        return;
    }
    ActiveTable& table = t->second;
    // The request cannot be read on (a bad condition, the table changed): say so, go on.
    auto fail_table = [&](const std::string& why) {
        spdlog::error("snapshot of {} failed: {}", info.table, why);
        if (catalog_conn == nullptr) {
            ensure_reader();
            catalog_conn = reader_->conn();
        }
        SnapshotStore(catalog_conn, progress_table_, settings_.slot)
            .fail(info.table, info.generation, why);
        ++failed_;
        drop_pending(info.table);
        tables_.erase(t);
        close_window();
    };
    if (!result.chunk) {
        if (!result.permanent &&
            source::classify_pg_error(result.sqlstate, result.origin).retry_statement) {
            spdlog::warn("snapshot chunk of {} failed ({}); reading it again in a second",
                         info.table, result.error);
            read_again();
            retry_after_ = Clock::now() + std::chrono::seconds(1);
        } else {
            fail_table(result.error);
            return;
        }
        close_window();
        return;
    }
    ChunkOutcome outcome;
    outcome.keyed = table.description.keyed();
    outcome.after = info.range.after;
    outcome.last_key = result.chunk->last_key;
    outcome.last = result.chunk->last;
    outcome.rows = result.chunk->is_encoded || !result.chunk->rows
                       ? result.chunk->encoded.size()
                       : static_cast<std::size_t>(PQntuples(result.chunk->rows.get()));
    outcome.limit = info.range.range == Range::Limit ? settings_.chunk_size : 0;
    if (auto why = chunk_progress_error(outcome)) {
        fail_table(*why + (table.progress.condition.empty()
                               ? std::string("; request the snapshot again")
                               : "; check the condition '" + table.progress.condition +
                                     "' and request the snapshot again"));
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
        close_window();
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
    if (info.range.range == Range::Limit) {  // the next chunk starts after this one's last row
        table.progress.last_key = pc.chunk.last_key;
        table.read_all = pc.chunk.last;
    }
    ++table.in_flight;
    spdlog::debug("snapshot chunk {} of {}: {} rows{}", pc.id, pc.table, n,
                  pc.chunk.last ? " (last)" : "");
    const auto pending = pending_.emplace(pc.id, std::move(pc)).first;
    // Changes the stream processed since the read began win over the chunk's rows; so do
    // those processed from now until its watermark.
    window_.rows_read(result.id, pending->second.chunk.rows_by_key, n);
}

void SnapshotCoordinator::on_stream_change(const changeset::Changeset& change,
                                           std::string_view key_json, std::string_view value_json) {
    // A change processed between a chunk's read and its watermark wins over the chunk's row,
    // or patches it when its new row lacks columns (ChunkWindow). A key change comes as two
    // changes: the old key's `deleted`, the new key's `added`.
    const auto oid = change.relation->oid;
    if (change.op == changeset::Op::Truncated) {
        on_truncate(oid);
        return;
    }
    RowChange row;
    if (change.op != changeset::Op::Deleted) {
        // Under REPLICA IDENTITY FULL an unchanged TOAST value is in `after` (the old row's):
        // only a value PostgreSQL did not send at all leaves the new row short.
        const bool whole =
            std::none_of(change.after.begin(), change.after.end(),
                         [](const auto& v) { return v.state == changeset::Value::State::Absent; });
        row.kind = whole ? RowChange::Kind::Complete : RowChange::Kind::Partial;
        row.after = json_member(value_json, "after").value_or("{}");
    }
    on_change(oid, key_json, row);
}

void SnapshotCoordinator::on_change(std::uint32_t relation_oid, std::string_view key_json,
                                    RowChange change) {
    window_.on_change(relation_oid, key_json, change);
}

void SnapshotCoordinator::on_truncate(std::uint32_t relation_oid) {
    window_.on_truncate(relation_oid);
}

SnapshotCoordinator::PendingChunk* SnapshotCoordinator::on_watermark(std::string_view content) {
    const auto chunk_id = watermark_.chunk_id(content);
    if (!chunk_id) {
        return nullptr;
    }
    const std::uint64_t id = *chunk_id;
    if (dispatched_.contains(id) && pool_) {
        // Its reader thread wrote the watermark and is handing the result over right now.
        if (auto result = pool_->wait_for(id, settings_.read_timeout_ms)) {
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
    if (it == pending_.end()) {
        return nullptr;
    }
    // The window ends here for the rows published.
    it->second.dropped = window_.dropped(id);
    it->second.patched = window_.patched(id);
    return &it->second;
}

void SnapshotCoordinator::on_chunk_published(PendingChunk* chunk, std::uint64_t end_lsn,
                                             std::uint64_t rows) {
    const auto t = tables_.find(chunk->table);
    spdlog::debug("snapshot chunk {} of {} published: {} rows, {} of them patched from the stream",
                  chunk->id, chunk->table, rows, chunk->patched.size());
    if (t != tables_.end() && t->second.progress.generation == chunk->generation) {
        t->second.rows_published += static_cast<std::int64_t>(rows);
        t->second.rows_patched += static_cast<std::int64_t>(chunk->patched.size());
        --t->second.in_flight;
        saves_.add({end_lsn, chunk->table, chunk->generation, chunk->sequence,
                    chunk->chunk.last_key, static_cast<std::int64_t>(rows), chunk->chunk.last});
    }
    if (hooks_.rows_published) {
        hooks_.rows_published(chunk->table, rows);
    }
    window_.close(chunk->id);
    pending_.erase(chunk->id);
}

void SnapshotCoordinator::on_flushed(PGconn* catalog_conn, std::uint64_t flush_lsn) {
    // In the order ProgressSaves allows: a saved key must never pass rows not yet acknowledged.
    std::optional<SnapshotStore> store;
    while (const ProgressSaves::Save* s = saves_.next_ready(flush_lsn)) {
        const auto t = tables_.find(s->table);
        if (t == tables_.end() || t->second.progress.generation != s->generation) {
            saves_.stop(s->table);  // not expected: the two are kept in step
            continue;
        }
        if (!store) {
            store.emplace(catalog_conn, progress_table_, settings_.slot);
        }
        t->second.rows_saved += s->rows;
        store->save(s->table, s->generation, s->last_key, t->second.rows_saved, s->done);
        if (s->done) {
            spdlog::info(
                "snapshot of {} complete: {} rows ({} patched from the stream); {} chunks read in "
                "this run, up to {} at once",
                s->table, t->second.rows_saved, t->second.rows_patched, t->second.next_sequence,
                t->second.most_reads);
            finished_rows_ += t->second.rows_published;
            tables_.erase(t);
            if (hooks_.tables_remaining) {
                hooks_.tables_remaining(tables_.size());
            }
        }
        saves_.mark_saved(s);
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

}  // namespace pgcs::snapshot
