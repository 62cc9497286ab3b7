// Snapshot chunks read in parallel: a few threads, each with a connection of its own, read the
// chunks the coordinator asks for, hand each result over, then write its watermark (retried
// until written). The coordinator (the stream loop's thread) takes results as they come; a
// watermark reaching the stream finds its result already handed over.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/base/unique_fd.hpp"
#include "core/changeset/relation_cache.hpp"
#include "core/changeset/type_registry.hpp"
#include "core/snapshot/table_reader.hpp"
#include "core/source/pg_error.hpp"

namespace pgcs::snapshot {

// What a reader thread needs to encode a table's rows, its own copy: the stream loop's type
// registry and relations change while the readers work. Immutable once built.
struct TableEncoding {
    changeset::TypeRegistry types;
    changeset::RelationCache relations;
    const changeset::RelationInfo* relation = nullptr;
    encode::FormatSettings format;  // kafka.format: how the rows are encoded
};

class ChunkPool {
  public:
    struct Task {
        std::uint64_t id = 0;
        SnapshotTable table;
        std::string condition;
        std::vector<std::string> after;
        int limit = 0;
        // How far the chunk reaches: `limit` rows (Limit); up to the key where `limit` rows end,
        // found first and handed over at once so that the table's next chunk can be read
        // meanwhile (FindUpper; a keyed table); up to `upper` (UpTo); to the end (ToEnd).
        enum class Range { Limit, FindUpper, UpTo, ToEnd } range = Range::Limit;
        std::vector<std::string> upper;  // UpTo
        std::string watermark;           // the watermark message's content, written after the read
        std::shared_ptr<const TableEncoding> encoding;  // rows are encoded when set
    };
    struct Result {
        std::uint64_t id = 0;
        std::optional<Chunk> chunk;  // empty on failure
        std::string error;
        std::string sqlstate;
        source::PgErrorOrigin origin = source::PgErrorOrigin::Statement;
        bool permanent = false;  // not a PostgreSQL error
        // FindUpper: where the chunk ends (`upper`; empty: at the table's end), once found.
        // A `bound_only` result says just that, ahead of the rows' result.
        bool has_bound = false;
        bool bound_only = false;
        std::vector<std::string> upper;
    };

    ChunkPool(source::ConnectionSettings settings, int threads);
    ~ChunkPool();
    ChunkPool(const ChunkPool&) = delete;
    ChunkPool& operator=(const ChunkPool&) = delete;

    void submit(Task task);
    // A finished task's result (or a FindUpper task's bound), if any (does not wait).
    std::optional<Result> take();
    // Waits up to `timeout_ms` for the rows' result of task `id` (other results stay queued).
    std::optional<Result> wait_for(std::uint64_t id, int timeout_ms);
    std::size_t threads() const { return threads_.size(); }
    // Readable when a result was handed over (an eventfd), for the stream loop's poll();
    // drain_wakeup_fd() resets it.
    int wakeup_fd() const { return wake_fd_.get(); }
    void drain_wakeup_fd();

  private:
    void work();
    void hand_over(Result result);

    source::ConnectionSettings settings_;
    std::mutex mutex_;
    std::condition_variable tasks_ready_;
    std::condition_variable results_ready_;
    std::deque<Task> tasks_;
    std::deque<Result> results_;
    bool stop_ = false;
    base::UniqueFd wake_fd_;
    std::vector<std::thread> threads_;
};

}  // namespace pgcs::snapshot
