// Reader threads for snapshot chunks; see chunk_pool.hpp.
#include "core/snapshot/chunk_pool.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>

namespace pgcs::snapshot {

ChunkPool::ChunkPool(source::ConnectionSettings settings, int threads)
    : settings_(std::move(settings)), wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!wake_fd_) {
        throw std::system_error(errno, std::generic_category(), "eventfd for snapshot readers");
    }
    for (int i = 0; i < threads; ++i) {
        threads_.emplace_back([this, i] {
            // Named for top -H and perf: "snapshot-0", "snapshot-1", ...
            const std::string name = "snapshot-" + std::to_string(i);
            pthread_setname_np(pthread_self(), name.c_str());
            work();
        });
    }
}

ChunkPool::~ChunkPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    tasks_ready_.notify_all();
    for (auto& t : threads_) {
        t.join();
    }
}

void ChunkPool::drain_wakeup_fd() {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = read(wake_fd_.get(), &count, sizeof count);  // resets it
}

void ChunkPool::hand_over(Result result) {
    {
        std::lock_guard lock(mutex_);
        results_.push_back(std::move(result));
    }
    results_ready_.notify_all();
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n =
        write(wake_fd_.get(), &one, sizeof one);  // full: already readable
}

void ChunkPool::submit(Task task) {
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    tasks_ready_.notify_one();
}

std::optional<ChunkPool::Result> ChunkPool::take() {
    std::lock_guard lock(mutex_);
    if (results_.empty()) {
        return std::nullopt;
    }
    Result r = std::move(results_.front());
    results_.pop_front();
    return r;
}

std::optional<ChunkPool::Result> ChunkPool::wait_for(std::uint64_t id, int timeout_ms) {
    std::unique_lock lock(mutex_);
    auto find = [&] {
        return std::find_if(results_.begin(), results_.end(),
                            [id](const Result& r) { return r.id == id && !r.bound_only; });
    };
    if (!results_ready_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                 [&] { return find() != results_.end(); })) {
        return std::nullopt;
    }
    const auto it = find();
    Result r = std::move(*it);
    results_.erase(it);
    return r;
}

void ChunkPool::work() {
    std::optional<TableReader> reader;
    auto connected = [&]() -> TableReader& {
        if (!reader || PQstatus(reader->conn()) != CONNECTION_OK) {
            reader.reset();
            reader.emplace(source::connect(settings_, false));
        }
        return *reader;
    };
    for (;;) {
        Task task;
        {
            std::unique_lock lock(mutex_);
            tasks_ready_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
            if (stop_) {
                return;
            }
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        Result result;
        result.id = task.id;
        try {
            TableReader& r = connected();
            int limit = task.limit;
            if (task.range == Task::Range::FindUpper) {
                if (auto found = r.upper_bound(task.table, task.after, task.limit)) {
                    result.upper = std::move(*found);
                }
                result.has_bound = true;
                Result bound;
                bound.id = task.id;
                bound.has_bound = true;
                bound.bound_only = true;
                bound.upper = result.upper;
                hand_over(std::move(bound));
            } else if (task.range == Task::Range::UpTo) {
                result.upper = task.upper;
            }
            if (task.range != Task::Range::Limit) {
                limit = 0;  // the range bounds the chunk
            }
            result.chunk = r.read(task.table, task.condition, task.after, limit, result.upper);
            if (task.encoding) {
                encode_chunk(*task.encoding->relation, task.encoding->types, task.encoding->format,
                             *result.chunk);
            }
        } catch (const source::PgError& e) {
            result.chunk.reset();
            result.error = e.what();
            result.sqlstate = e.sqlstate();
            result.origin = e.origin();
            reader.reset();
        } catch (const std::exception& e) {
            result.chunk.reset();
            result.error = e.what();
            result.permanent = true;  // a value that cannot be encoded: reading again won't help
        }
        const bool read = result.chunk.has_value();
        // Handed over before the watermark exists: the coordinator has the rows before the
        // stream can bring the watermark, and reads the table's next chunk meanwhile.
        hand_over(std::move(result));
        // The watermark, after the read. A later one only widens the chunk's window (safe), so
        // a failure is retried until it is written: the chunk waits for it.
        for (int attempt = 0; read; ++attempt) {
            try {
                connected().emit_watermark(task.watermark);
                break;
            } catch (const std::exception&) {
                reader.reset();
                std::unique_lock lock(mutex_);
                if (tasks_ready_.wait_for(
                        lock,
                        std::chrono::milliseconds(std::min(5000, 100 << std::min(attempt, 6))),
                        [&] { return stop_; })) {
                    return;
                }
            }
        }
    }
}

}  // namespace pgcs::snapshot
