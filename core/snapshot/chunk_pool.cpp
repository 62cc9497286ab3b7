// Reader threads for snapshot chunks; see chunk_pool.hpp.
#include "core/snapshot/chunk_pool.hpp"

#include <algorithm>
#include <chrono>

namespace pgcs::snapshot {

ChunkPool::ChunkPool(source::ConnectionSettings settings, int threads)
    : settings_(std::move(settings)) {
    for (int i = 0; i < threads; ++i) {
        threads_.emplace_back([this] { work(); });
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
                            [id](const Result& r) { return r.id == id; });
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
            if (!reader || PQstatus(reader->conn()) != CONNECTION_OK) {
                reader.reset();
                reader.emplace(source::connect(settings_, false));
            }
            result.chunk = reader->read(task.table, task.condition, task.after, task.limit);
            // After the read, and before the result is handed over: the coordinator, seeing
            // the watermark in the stream, waits for the result (wait_for).
            reader->emit_watermark(task.watermark);
            result.watermark_written = true;
        } catch (const source::PgError& e) {
            result.chunk.reset();
            result.error = e.what();
            result.sqlstate = e.sqlstate();
            reader.reset();
        } catch (const std::exception& e) {
            result.chunk.reset();
            result.error = e.what();
            reader.reset();
        }
        {
            std::lock_guard lock(mutex_);
            results_.push_back(std::move(result));
        }
        results_ready_.notify_all();
    }
}

}  // namespace pgcs::snapshot
