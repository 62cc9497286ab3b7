// The DBLog window of each snapshot chunk, from the moment its read begins until its watermark:
// a change the stream processes in that window for the chunk's table wins over the chunk's row
// with the same Kafka key, which is then not published (the stream carries a state at least as
// new); a TRUNCATE wins over every row. Changes processed while a chunk is still being read are
// kept (the change log) until its rows arrive. The place that decides what a change does to a
// chunk's rows. Driven by the stream loop's thread, in WAL order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/snapshot/table_reader.hpp"

namespace pgcs::snapshot {

class ChunkWindow {
  public:
    // Chunk `id`, of relation `relation_oid`, begins its read now: every change processed from
    // here on counts against its rows.
    void open(std::uint64_t id, std::uint32_t relation_oid);
    // Its `rows` rows were read, keyed by `keys` (empty for a table without a key: no change
    // matches a row, only a TRUNCATE drops them): the changes processed since open() apply now,
    // later ones as they come. `keys` must stay where it is until close().
    void rows_read(std::uint64_t id, const KeyIndex& keys, std::size_t rows);
    // Which of the chunk's rows a change dropped (true: not to be published); empty until its
    // rows are read. Throws std::logic_error for a chunk not open.
    const std::vector<bool>& dropped(std::uint64_t id) const;
    // The chunk is published, read again or given up: its window closes.
    void close(std::uint64_t id);

    // Whether a chunk of the relation is in its window: the stream then reports its changes.
    bool watches(std::uint32_t relation_oid) const {
        return watched_.find(relation_oid) != watched_.end();
    }
    // A change of the relation's row whose Kafka key is `key_json` (an UPDATE that changes the
    // key reports both keys); an empty key matches nothing.
    void on_change(std::uint32_t relation_oid, std::string_view key_json);
    void on_truncate(std::uint32_t relation_oid);

    // Changes kept for chunks still being read (none once no chunk is being read).
    std::size_t logged_changes() const { return log_.size(); }

  private:
    struct Window {
        std::uint32_t oid = 0;
        std::uint64_t log_position = 0;  // where the change log stood when the read began
        bool read = false;
        const KeyIndex* keys = nullptr;
        std::vector<bool> dropped;
    };
    // What one change does to a chunk whose rows are read. `key_json` empty: a TRUNCATE.
    static void apply(Window& w, std::string_view key_json);
    void record(std::uint32_t relation_oid, std::string_view key_json);
    void stop_reading(std::uint32_t relation_oid);
    void unwatch(std::uint32_t relation_oid);

    std::unordered_map<std::uint64_t, Window> windows_;
    std::unordered_map<std::uint32_t, int> watched_;  // relation OID -> chunks in their window
    std::unordered_map<std::uint32_t, int> reading_;  // relation OID -> chunks being read
    std::size_t reads_ = 0;                           // chunks being read, in all
    // (relation OID, key; "" for a TRUNCATE), of relations with a chunk being read.
    std::vector<std::pair<std::uint32_t, std::string>> log_;
    std::uint64_t log_base_ = 0;  // the position of log_[0]
};

}  // namespace pgcs::snapshot
