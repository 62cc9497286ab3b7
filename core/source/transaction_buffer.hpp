// The raw pgoutput messages of a transaction being received, kept until it commits: an event's
// commit_lsn (the commit's end LSN) is only known then, and a streamed transaction may still
// abort. Memory is bounded: every buffer draws on one MemoryBudget; the buffer whose append
// would pass it moves to an unlinked temporary file (nothing to clean up after a crash) and
// stays there until clear(). Replay is sequential, in append order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/base/unique_fd.hpp"

namespace pgcs::source {

// Bytes held in memory by all transaction buffers together.
class MemoryBudget {
  public:
    explicit MemoryBudget(std::uint64_t limit) : limit_(limit) {}
    std::uint64_t limit() const { return limit_; }
    std::uint64_t used() const { return used_; }
    std::uint64_t peak() const { return peak_; }
    bool fits(std::uint64_t more) const { return used_ + more <= limit_; }
    void take(std::uint64_t n) {
        used_ += n;
        peak_ = std::max(peak_, used_);
    }
    void give_back(std::uint64_t n) { used_ -= n; }

  private:
    std::uint64_t limit_;
    std::uint64_t used_ = 0;
    std::uint64_t peak_ = 0;
};

// Writing or reading a spill file failed (disk full, folder missing or not writable).
class SpillError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Why transactions cannot spill to `directory` (missing, not a directory, no file can be
// created and written there), or std::nullopt when they can: checked at start, so that the
// first large transaction does not find out. Leaves nothing behind.
std::optional<std::string> spill_directory_problem(const std::string& directory);

class TransactionBuffer {
  public:
    struct Entry {
        std::uint64_t lsn;
        std::int64_t captured_time;  // when the message was received (PostgreSQL µs)
        std::uint32_t xid;           // the (sub)transaction of a streamed change; 0 otherwise
        std::span<const std::byte> bytes;
    };

    TransactionBuffer(MemoryBudget& budget, std::string spill_directory);
    ~TransactionBuffer();
    TransactionBuffer(TransactionBuffer&& other) noexcept;
    TransactionBuffer& operator=(TransactionBuffer&&) = delete;
    TransactionBuffer(const TransactionBuffer&) = delete;
    TransactionBuffer& operator=(const TransactionBuffer&) = delete;

    // Throws SpillError when the message has to go to disk and cannot.
    void append(std::uint64_t lsn, std::int64_t captured_time, std::uint32_t xid,
                std::span<const std::byte> bytes);

    // Forgets every message, closes the spill file and returns the memory to the budget.
    void clear();

    std::size_t size() const { return count_; }
    std::uint64_t bytes() const { return total_bytes_; }
    bool spilled() const { return fd_.valid(); }

    // Calls `f` for every message in append order; an Entry's bytes are valid during the call
    // only. Throws SpillError when the spill file cannot be read back.
    void replay(const std::function<void(const Entry&)>& f);

  private:
    struct Index {
        std::uint64_t lsn;
        std::int64_t captured_time;
        std::uint32_t xid;
        std::byte* data;
        std::size_t length;
    };
    std::byte* store(std::span<const std::byte> bytes);
    void spill();
    void write_entry(const Index& header, std::span<const std::byte> bytes);
    void flush_writes();
    void release_memory();

    MemoryBudget* budget_;
    std::string directory_;
    // Memory: chunks that never move, so an Index stays valid while more messages arrive.
    std::vector<std::unique_ptr<std::byte[]>> chunks_;
    std::size_t chunk_used_ = 0;
    std::size_t chunk_size_ = 0;
    std::vector<Index> index_;
    std::uint64_t memory_bytes_ = 0;  // charged to the budget
    // Disk.
    base::UniqueFd fd_;
    std::vector<std::byte> write_buffer_;
    std::uint64_t file_bytes_ = 0;

    std::size_t count_ = 0;
    std::uint64_t total_bytes_ = 0;
};

}  // namespace pgcs::source
