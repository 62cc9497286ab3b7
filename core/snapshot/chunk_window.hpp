// The DBLog window of each snapshot chunk, from the moment its read begins until its watermark:
// the place that decides what the changes the stream processes in that window do to the
// chunk's rows (README "Snapshots"). For each row whose Kafka key they touch, by the newest:
// a DELETE (or the old key of a key change), a TRUNCATE, or a change whose new row has every
// column drops the row (the stream carries a state at least as new); a change whose new row
// lacks columns (unchanged TOAST) patches it instead: the row is published with the values of
// every window change of its key laid over it in WAL order, so that no column is left without
// a value. Changes processed while a chunk is still being read are kept (the change log) until
// its rows arrive. Driven by the stream loop's thread, in WAL order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/snapshot/row_patch.hpp"
#include "core/snapshot/table_reader.hpp"

namespace pgcs::snapshot {

// What a change of one Kafka key does to that key's row.
struct RowChange {
    enum class Kind : std::uint8_t {
        Gone,      // a DELETE, or the old key of an UPDATE that changed the key
        Complete,  // an INSERT or UPDATE whose new row has every column
        Partial,   // an UPDATE whose new row lacks some columns (unchanged TOAST)
    };
    Kind kind = Kind::Gone;
    std::string_view after;  // Complete, Partial: the new row, the event's "after" JSON object
};

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
    // The rows to publish patched, by row: the values the stream carried, to lay over each.
    // Throws std::logic_error for a chunk not open.
    std::unordered_map<std::uint32_t, RowPatch> patched(std::uint64_t id) const;
    // The chunk is published, read again or given up: its window closes.
    void close(std::uint64_t id);

    // Whether a chunk of the relation is in its window: the stream then reports its changes.
    bool watches(std::uint32_t relation_oid) const {
        return watched_.find(relation_oid) != watched_.end();
    }
    // A change of the relation's row whose Kafka key is `key_json` (an UPDATE that changes the
    // key reports both keys: the old one as Gone); an empty key matches nothing. What it keeps
    // of `change.after` is copied. Throws std::invalid_argument when `change.after` of a
    // Complete or Partial change is not a JSON object.
    void on_change(std::uint32_t relation_oid, std::string_view key_json, RowChange change);
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
        // Rows with window changes of their key (not TRUNCATEs): the values the stream carried,
        // the newest per column. Published patched unless dropped.
        std::unordered_map<std::uint32_t, RowPatch> carried;
    };
    // A change kept for the chunks still being read. `key` empty: a TRUNCATE.
    struct Logged {
        std::uint32_t oid = 0;
        std::string key;
        RowChange::Kind kind = RowChange::Kind::Gone;
        std::string after;
    };
    // What one change does to a chunk whose rows are read. `key_json` empty: a TRUNCATE.
    static void apply(Window& w, std::string_view key_json, const RowChange& change);
    void record(std::uint32_t relation_oid, std::string_view key_json, const RowChange& change);
    void stop_reading(std::uint32_t relation_oid);
    void unwatch(std::uint32_t relation_oid);

    std::unordered_map<std::uint64_t, Window> windows_;
    std::unordered_map<std::uint32_t, int> watched_;  // relation OID -> chunks in their window
    std::unordered_map<std::uint32_t, int> reading_;  // relation OID -> chunks being read
    std::size_t reads_ = 0;                           // chunks being read, in all
    // The changes of relations with a chunk being read.
    std::vector<Logged> log_;
    std::uint64_t log_base_ = 0;  // the position of log_[0]
};

}  // namespace pgcs::snapshot
