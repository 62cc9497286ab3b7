// ChunkWindow: which of a snapshot chunk's rows the stream's changes drop, from the moment its
// read begins until its watermark (the DBLog window).
#include "core/snapshot/chunk_window.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

using pgcs::snapshot::ChunkWindow;
using pgcs::snapshot::EncodedRows;
using pgcs::snapshot::KeyIndex;

namespace {

constexpr std::uint32_t kTable = 16384;
constexpr std::uint32_t kOtherTable = 16390;

std::string key(int id) {
    return "{\"id\":" + std::to_string(id) + "}";
}

// A chunk's rows with keys {"id":0} .. {"id":n-1}, and their index.
struct Rows {
    explicit Rows(int n) {
        rows.has_key = true;
        for (int i = 0; i < n; ++i) {
            const std::string k = key(i);
            rows.keys.insert(rows.keys.end(), k.begin(), k.end());
            rows.key_ends.push_back(static_cast<std::uint32_t>(rows.keys.size()));
            rows.value_ends.push_back(0);
        }
        index.build(rows);
    }
    std::size_t size() const { return rows.size(); }
    EncodedRows rows;
    KeyIndex index;
};

// The rows a chunk's window dropped, as their indexes.
std::vector<std::size_t> dropped_rows(const ChunkWindow& w, std::uint64_t id) {
    std::vector<std::size_t> out;
    const auto& dropped = w.dropped(id);
    for (std::size_t i = 0; i < dropped.size(); ++i) {
        if (dropped[i]) {
            out.push_back(i);
        }
    }
    return out;
}

using Indexes = std::vector<std::size_t>;

}  // namespace

TEST_CASE("chunk window: a change after the read began drops its key's row, once read or not") {
    const Rows rows(5);
    ChunkWindow w;
    w.open(1, kTable);
    w.on_change(kTable, key(1));  // while the chunk is being read: kept in the change log
    CHECK(w.logged_changes() == 1);
    w.rows_read(1, rows.index, rows.size());
    CHECK(dropped_rows(w, 1) == Indexes{1});
    CHECK(w.logged_changes() == 0);  // no read in flight: the log is let go
    w.on_change(kTable, key(3));     // after the read, before the watermark
    CHECK(dropped_rows(w, 1) == Indexes{1, 3});
    w.on_change(kTable, key(42));  // a key the chunk does not hold
    w.on_change(kTable, "");       // no key (a table without one): matches nothing
    CHECK(dropped_rows(w, 1) == Indexes{1, 3});
}

TEST_CASE("chunk window: changes before the read began and of other tables drop nothing") {
    const Rows rows(4);
    ChunkWindow w;
    w.open(1, kTable);
    w.on_change(kTable, key(0));
    w.rows_read(1, rows.index, rows.size());
    // Chunk 2 begins its read after the change of key 0: that change does not count for it.
    w.open(2, kTable);
    w.on_change(kOtherTable, key(2));  // another relation's row with the same key
    w.on_truncate(kOtherTable);
    w.on_change(kTable, key(3));
    w.rows_read(2, rows.index, rows.size());
    CHECK(dropped_rows(w, 1) == Indexes{0, 3});
    CHECK(dropped_rows(w, 2) == Indexes{3});
    CHECK(w.logged_changes() == 0);
}

TEST_CASE("chunk window: a TRUNCATE drops every row, logged or after the read") {
    const Rows rows(3);
    ChunkWindow w;
    w.open(1, kTable);
    w.open(2, kTable);
    w.on_truncate(kTable);
    w.rows_read(1, rows.index, rows.size());
    CHECK(dropped_rows(w, 1) == Indexes{0, 1, 2});
    w.open(3, kTable);
    w.rows_read(3, rows.index, rows.size());
    CHECK(dropped_rows(w, 3).empty());  // opened after the TRUNCATE
    w.on_truncate(kTable);
    CHECK(dropped_rows(w, 3) == Indexes{0, 1, 2});
    w.rows_read(2, rows.index, rows.size());
    CHECK(dropped_rows(w, 2) == Indexes{0, 1, 2});
}

TEST_CASE("chunk window: the old key of an UPDATE that changes the key drops its row too") {
    const Rows rows(3);
    ChunkWindow w;
    w.open(7, kTable);
    w.rows_read(7, rows.index, rows.size());
    w.on_change(kTable, key(10));  // the new key: not in the chunk
    w.on_change(kTable, key(2));   // the old key
    CHECK(dropped_rows(w, 7) == Indexes{2});
}

TEST_CASE("chunk window: watches a relation while one of its chunks is open, then forgets it") {
    const Rows rows(2);
    ChunkWindow w;
    CHECK_FALSE(w.watches(kTable));
    w.open(1, kTable);
    w.open(2, kTable);
    CHECK(w.watches(kTable));
    CHECK_FALSE(w.watches(kOtherTable));
    w.close(1);  // given up while being read
    CHECK(w.watches(kTable));
    w.rows_read(2, rows.index, rows.size());
    CHECK(w.watches(kTable));  // read, waiting for its watermark
    w.close(2);                // published
    CHECK_FALSE(w.watches(kTable));
    CHECK_THROWS_AS(w.dropped(2), std::logic_error);
    // Closing a chunk being read lets the change log go as well.
    w.open(3, kOtherTable);
    w.on_change(kOtherTable, key(0));
    CHECK(w.logged_changes() == 1);
    w.close(3);
    CHECK(w.logged_changes() == 0);
}

TEST_CASE("chunk window: changes are logged only for relations with a chunk being read") {
    const Rows rows(2);
    ChunkWindow w;
    w.on_change(kTable, key(0));  // no chunk: nothing kept
    CHECK(w.logged_changes() == 0);
    w.open(1, kTable);
    w.on_change(kOtherTable, key(0));
    CHECK(w.logged_changes() == 0);
    w.on_change(kTable, key(1));
    CHECK(w.logged_changes() == 1);
    // A chunk read later starts after what is in the log; a chunk of the same relation read
    // earlier still gets the change.
    w.open(2, kTable);
    w.rows_read(2, rows.index, rows.size());
    CHECK(dropped_rows(w, 2).empty());
    w.rows_read(1, rows.index, rows.size());
    CHECK(dropped_rows(w, 1) == Indexes{1});
}
