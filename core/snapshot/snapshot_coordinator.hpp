// Snapshots interleaved with streaming (the DBLog method, README "Snapshots"): a table is read in
// chunks in key order; after each chunk a watermark message goes into the WAL; a streamed change
// of a key the chunk holds, processed between the read and the watermark, drops that row from
// the chunk (the stream carries a state at least as new) or, when the newest such change lacks
// columns (unchanged TOAST), patches it with the values the stream carried; at the watermark the
// rest of the chunk is published as `read` events inside the watermark's transaction. Progress
// is saved to the progress table once Kafka has acknowledged the chunk. Driven by the stream
// loop's thread. The pure parts are their own classes: ChunkWindow (which rows the stream's
// changes drop or patch), RowPatch (a patched row's value), Watermark (the watermark's
// content), ProgressSaves (the order progress is saved in).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/changeset/changeset.hpp"
#include "core/changeset/relation_cache.hpp"
#include "core/snapshot/chunk_pool.hpp"
#include "core/snapshot/chunk_window.hpp"
#include "core/snapshot/progress_saves.hpp"
#include "core/snapshot/row_patch.hpp"
#include "core/snapshot/snapshot_settings.hpp"
#include "core/snapshot/snapshot_store.hpp"
#include "core/snapshot/table_reader.hpp"
#include "core/snapshot/watermark.hpp"
#include "core/source/catalog.hpp"

namespace pgcs::snapshot {

class SnapshotCoordinator {
  public:
    // A chunk read and fenced, waiting for its watermark in the stream.
    struct PendingChunk {
        std::uint64_t id = 0;
        std::string table;  // quoted
        std::int64_t generation = 0;
        const changeset::RelationInfo* relation = nullptr;
        Chunk chunk;
        std::vector<bool> dropped;  // rows not to publish (ChunkWindow), set at the watermark
        // Rows to publish patched from the stream (ChunkWindow), by row; set at the watermark.
        std::unordered_map<std::uint32_t, RowPatch> patched;
        std::int64_t read_time = 0;  // PostgreSQL timestamp of the read (captured_ts)
        std::uint64_t sequence = 0;  // the table's chunks in key order, from 0
    };

    struct Hooks {
        std::function<void(std::string_view table, std::uint64_t rows)> rows_published;
        std::function<void(std::size_t tables)> tables_remaining;
    };

    SnapshotCoordinator(SnapshotSettings settings, changeset::TypeRegistry& types, Hooks hooks);

    // At start, once the publication exists and before the slot is created (`slot_missing`)
    // or used: records what snapshot.mode asks for in the progress table. `published`: the
    // publication's tables.
    // Returns true when the new slot should export its snapshot: tables without a key are then
    // read under it (copy_exported), consistent with the stream that starts at the same point.
    bool plan(PGconn* catalog_conn, const source::Catalog& catalog, bool slot_missing,
              const std::vector<source::TableName>& published);
    // Before streaming starts: reads the tables without a key under the new slot's exported
    // snapshot, handing each batch of rows to `emit`; then, once Kafka acknowledged them,
    // finish_exported() records them done.
    void copy_exported(const source::ExportedSnapshot& exported,
                       const std::function<void(PendingChunk& rows)>& emit);
    void finish_exported(PGconn* catalog_conn);
    // Then: picks up the progress table's unfinished work.
    void resume(PGconn* catalog_conn, const source::Catalog& catalog);

    // Reads the next chunk when there is room, and every second looks for new requests.
    void poll(PGconn* catalog_conn, const source::Catalog& catalog);

    // Stream hooks, in WAL order.
    bool watches(std::uint32_t relation_oid) const { return window_.watches(relation_oid); }
    void on_change(std::uint32_t relation_oid, std::string_view key_json, RowChange change);
    void on_truncate(std::uint32_t relation_oid);
    // A change the stream just encoded (`key_json`: its Kafka key, "" for none; `value_json`:
    // its event) of a watched table: a TRUNCATE, or what the change does to its key's row (the
    // kind, and the new row's `after`).
    void on_stream_change(const changeset::Changeset& change, std::string_view key_json,
                          std::string_view value_json);
    void on_commit(std::uint32_t xid) { recent_.add(xid); }
    // The chunk a watermark fences, or nullptr (another slot's, another run's, or published).
    PendingChunk* on_watermark(std::string_view content);
    // The chunk's rows were handed to Kafka in the transaction ending at `end_lsn` (`rows` of
    // them, its patched rows included).
    void on_chunk_published(PendingChunk* chunk, std::uint64_t end_lsn, std::uint64_t rows);
    // Saves the progress of chunks Kafka has acknowledged (flush watermark at or past them).
    void on_flushed(PGconn* catalog_conn, std::uint64_t flush_lsn);

    bool enabled() const { return enabled_; }
    // Readable when a reader handed something over (poll() it with the stream); -1 if none.
    int wakeup_fd() const { return pool_ ? pool_->wakeup_fd() : -1; }
    void drain_wakeup_fd() {
        if (pool_) {
            pool_->drain_wakeup_fd();
        }
    }
    // No table left to snapshot and every chunk saved.
    bool finished() const { return tables_.empty() && pending_.empty() && saves_.empty(); }
    std::size_t tables_remaining() const { return tables_.size(); }
    // Tables whose snapshot failed in this run (logged, and marked failed in the table).
    std::size_t failed() const { return failed_; }
    bool is_progress_table(std::string_view schema, std::string_view name) const;
    // Rows published and estimated rows of the current tables (for a progress bar).
    std::pair<std::int64_t, std::int64_t> row_progress() const;

  private:
    // Which rows a chunk reads: its place in the table's key order (`sequence`, from 0), where
    // it starts, and how far it reaches (ChunkPool::Task::Range).
    struct ChunkRange {
        std::uint64_t sequence = 0;
        std::vector<std::string> after;
        ChunkPool::Task::Range range = ChunkPool::Task::Range::Limit;
        std::vector<std::string> upper;
    };
    struct ActiveTable {
        TableProgress progress;  // last_key: where the next read starts
        SnapshotTable description;
        const changeset::RelationInfo* relation = nullptr;
        std::shared_ptr<const TableEncoding> encoding;  // the readers' copy
        int in_flight = 0;  // chunks being read or waiting for their watermark
        // A chunk is being read whose end is not known yet: the next starts after it. A keyed
        // table's chunk finds its end first (an index scan), so several are read at once.
        bool reading = false;
        bool read_all = false;
        std::deque<ChunkRange> retries;  // chunks to read again, before any new one
        int reads = 0;                   // chunks of the table being read now
        int most_reads = 0;              // the most at once (logged at the end)
        std::int64_t rows_published = 0;
        std::int64_t rows_patched = 0;    // of those, patched from the stream (this run)
        std::int64_t rows_saved = 0;      // of the chunks saved (rows_done)
        std::uint64_t next_sequence = 0;  // given to the next new chunk
        std::int64_t estimated_rows = 0;
    };

    void load_requests(PGconn* catalog_conn, const source::Catalog& catalog);
    void activate(const TableProgress& p, const source::Catalog& catalog);
    void drop_pending(const std::string& table);
    void dispatch();
    void register_result(PGconn* catalog_conn, ChunkPool::Result result);
    struct Dispatched;
    void apply_bound(Dispatched& d, const std::vector<std::string>& upper);
    void ensure_reader();

    const SnapshotSettings settings_;
    changeset::TypeRegistry& types_;
    Hooks hooks_;
    bool enabled_ = false;
    std::optional<TableReader> reader_;  // descriptions, the exported snapshot
    std::optional<ChunkPool> pool_;      // chunk reads, snapshot.connections threads
    // Chunks being read: what their result is registered with.
    struct Dispatched {
        std::string table;
        std::int64_t generation;
        std::uint64_t published_before;  // RecentXids::added() at dispatch
        ChunkRange range;
    };
    std::map<std::uint64_t, Dispatched> dispatched_;
    // Every chunk from its dispatch until it is published or given up: what the stream's
    // changes do to its rows.
    ChunkWindow window_;
    std::unordered_set<std::uint64_t> watermark_passed_;
    std::string progress_table_;  // quoted
    Watermark watermark_;
    std::uint64_t next_chunk_ = 1;
    changeset::RelationCache relations_;  // the snapshot's own: the stream's may be older
    std::map<std::string, ActiveTable> tables_;
    std::map<std::uint64_t, PendingChunk> pending_;
    ProgressSaves saves_;
    RecentXids recent_;
    std::string round_robin_;  // the table read last
    std::chrono::steady_clock::time_point next_request_check_{};
    std::chrono::steady_clock::time_point retry_after_{};
    struct ExportedTable {
        SnapshotTable description;
        std::int64_t rows = 0;
    };
    std::vector<ExportedTable> exported_;  // keyless tables of a new slot
    std::int64_t finished_rows_ = 0;
    std::size_t failed_ = 0;        // of tables finished in this run (progress bar)
    bool requests_denied_ = false;  // the progress table may not be read (warned once)
};

}  // namespace pgcs::snapshot
