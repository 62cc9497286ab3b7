// The published snapshot chunks whose progress (their last key) is not saved yet, and the order
// it may be saved in: a chunk's progress is saved once Kafka has acknowledged the transaction
// that published it (the flush position is at or past its end LSN) and every earlier chunk of
// its table (by sequence, key order) was saved, so that a saved key never passes rows not yet
// acknowledged. One table's watermarks can reach the WAL out of order (several readers).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace pgcs::snapshot {

class ProgressSaves {
  public:
    struct Save {
        std::uint64_t end_lsn = 0;  // of the transaction that published the chunk
        std::string table;
        std::int64_t generation = 0;
        std::uint64_t sequence = 0;  // the chunk's place in the table's key order, from 0
        std::vector<std::string> last_key;
        std::int64_t rows = 0;  // the chunk's
        bool done = false;      // the table's last chunk
    };

    // The table's snapshot starts, its chunk 0 to be saved first. A table requested again
    // starts again with a new generation: the saves of earlier ones are dropped.
    void start(const std::string& table, std::int64_t generation);
    // It failed or was cancelled: its saves are dropped.
    void stop(const std::string& table);
    // A chunk was published. Ignored unless of a started table's current generation.
    void add(Save save);

    // The next save Kafka's flush position allows, or nullptr. It stays until mark_saved(), so
    // that a failed write is tried again. Drops the saves of tables stopped meanwhile.
    const Save* next_ready(std::uint64_t flush_lsn);
    // `save`, from next_ready(), was written: the table's next chunk may follow; after its last
    // one (done) the table ends.
    void mark_saved(const Save* save);

    bool empty() const { return saves_.empty(); }

  private:
    struct Table {
        std::int64_t generation = 0;
        std::uint64_t next_sequence = 0;  // the chunk whose progress is saved next
    };
    bool current(const Save& s) const;

    std::unordered_map<std::string, Table> tables_;
    std::vector<Save> saves_;  // in the order they were published
};

}  // namespace pgcs::snapshot
