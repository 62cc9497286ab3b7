// The raw pgoutput messages of the transaction being received, kept until its Commit: an
// event's commit_lsn (the commit's end LSN) is only known then. Messages are copied into one
// reused arena, so a transaction costs one allocation at most once its size has been seen.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pgcs::source {

class TransactionBuffer {
  public:
    struct Entry {
        std::uint64_t lsn;
        std::int64_t captured_time;  // when the message was received (PostgreSQL µs)
        std::span<const std::byte> bytes;
    };

    void clear() {
        arena_.clear();
        index_.clear();
    }

    void append(std::uint64_t lsn, std::int64_t captured_time, std::span<const std::byte> bytes) {
        index_.push_back({lsn, captured_time, arena_.size(), bytes.size()});
        arena_.insert(arena_.end(), bytes.begin(), bytes.end());
    }

    std::size_t size() const { return index_.size(); }
    std::size_t bytes() const { return arena_.size(); }

    Entry operator[](std::size_t i) const {
        const auto& x = index_[i];
        return {x.lsn, x.captured_time, std::span(arena_).subspan(x.offset, x.length)};
    }

  private:
    struct Index {
        std::uint64_t lsn;
        std::int64_t captured_time;
        std::size_t offset;
        std::size_t length;
    };
    std::vector<std::byte> arena_;
    std::vector<Index> index_;
};

}  // namespace pgcs::source
