// ChunkWindow: which of a snapshot chunk's rows the stream's changes drop or patch, from the
// moment its read begins until its watermark (the DBLog window).
#include "core/snapshot/chunk_window.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

using pgcs::snapshot::ChunkWindow;
using pgcs::snapshot::EncodedRows;
using pgcs::snapshot::KeyIndex;
using pgcs::snapshot::RowChange;
using Kind = pgcs::snapshot::RowChange::Kind;

namespace {

constexpr std::uint32_t kTable = 16384;
constexpr std::uint32_t kOtherTable = 16390;

std::string key(int id) {
    return "{\"id\":" + std::to_string(id) + "}";
}

// An UPDATE or INSERT whose new row has every column: it drops the row.
const RowChange kWhole{Kind::Complete, R"({"id":0,"counter":1,"big":"b"})"};

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

// An UPDATE of `counter` that left `big` alone (unchanged TOAST: not in its new row).
RowChange counter_only(const std::string& after) {
    return {Kind::Partial, after};
}

// The rows to publish patched, each as its `after` once the stream's values are laid over the
// chunk's row {"id":row,"counter":0,"big":"chunk"}.
std::map<std::uint32_t, std::string> patched_rows(const ChunkWindow& w, std::uint64_t id) {
    std::map<std::uint32_t, std::string> out;
    for (const auto& [row, patch] : w.patched(id)) {
        const std::string read = R"({"op":"read","key":{"id":)" + std::to_string(row) +
                                 R"(},"before":null,"after":{"id":)" + std::to_string(row) +
                                 R"(,"counter":0,"big":"chunk"},"changed":null})";
        std::string value;
        patch.apply(read, value);
        const std::string head = R"("after":)";
        const auto from = value.find(head) + head.size();
        out[row] = value.substr(from, value.find('}', from) + 1 - from);
    }
    return out;
}

using Patched = std::map<std::uint32_t, std::string>;

}  // namespace

TEST_CASE("chunk window: a change after the read began drops its key's row, once read or not") {
    const Rows rows(5);
    ChunkWindow w;
    w.open(1, kTable);
    w.on_change(kTable, key(1), kWhole);  // while the chunk is being read: kept in the change log
    CHECK(w.logged_changes() == 1);
    w.rows_read(1, rows.index, rows.size());
    CHECK(dropped_rows(w, 1) == Indexes{1});
    CHECK(w.logged_changes() == 0);       // no read in flight: the log is let go
    w.on_change(kTable, key(3), kWhole);  // after the read, before the watermark
    CHECK(dropped_rows(w, 1) == Indexes{1, 3});
    w.on_change(kTable, key(42), kWhole);  // a key the chunk does not hold
    w.on_change(kTable, "", kWhole);       // no key (a table without one): matches nothing
    CHECK(dropped_rows(w, 1) == Indexes{1, 3});
}

TEST_CASE("chunk window: changes before the read began and of other tables drop nothing") {
    const Rows rows(4);
    ChunkWindow w;
    w.open(1, kTable);
    w.on_change(kTable, key(0), kWhole);
    w.rows_read(1, rows.index, rows.size());
    // Chunk 2 begins its read after the change of key 0: that change does not count for it.
    w.open(2, kTable);
    w.on_change(kOtherTable, key(2), kWhole);  // another relation's row with the same key
    w.on_truncate(kOtherTable);
    w.on_change(kTable, key(3), kWhole);
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
    w.on_change(kTable, key(10), kWhole);      // the new key: not in the chunk
    w.on_change(kTable, key(2), RowChange{});  // the old key: gone
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
    w.on_change(kOtherTable, key(0), kWhole);
    CHECK(w.logged_changes() == 1);
    w.close(3);
    CHECK(w.logged_changes() == 0);
}

TEST_CASE("chunk window: changes are logged only for relations with a chunk being read") {
    const Rows rows(2);
    ChunkWindow w;
    w.on_change(kTable, key(0), kWhole);  // no chunk: nothing kept
    CHECK(w.logged_changes() == 0);
    w.open(1, kTable);
    w.on_change(kOtherTable, key(0), kWhole);
    CHECK(w.logged_changes() == 0);
    w.on_change(kTable, key(1), kWhole);
    CHECK(w.logged_changes() == 1);
    // A chunk read later starts after what is in the log; a chunk of the same relation read
    // earlier still gets the change.
    w.open(2, kTable);
    w.rows_read(2, rows.index, rows.size());
    CHECK(dropped_rows(w, 2).empty());
    w.rows_read(1, rows.index, rows.size());
    CHECK(dropped_rows(w, 1) == Indexes{1});
}

TEST_CASE("chunk window: a change that lacks columns patches its row instead of dropping it") {
    const Rows rows(5);
    ChunkWindow w;
    w.open(1, kTable);
    w.on_change(kTable, key(1), counter_only(R"({"id":1,"counter":7})"));  // logged
    w.rows_read(1, rows.index, rows.size());
    w.on_change(kTable, key(3), counter_only(R"({"id":3,"counter":9})"));
    w.on_change(kTable, key(4), kWhole);
    CHECK(dropped_rows(w, 1) == Indexes{4});
    // Published with the stream's values where it carried them, the chunk's where it did not.
    CHECK(patched_rows(w, 1) == Patched{{1, R"({"id":1,"counter":7,"big":"chunk"})"},
                                        {3, R"({"id":3,"counter":9,"big":"chunk"})"}});
    w.close(1);
    CHECK_THROWS_AS(w.patched(1), std::logic_error);
}

TEST_CASE("chunk window: the newest change of a key decides, values are laid over in WAL order") {
    const Rows rows(8);
    ChunkWindow w;
    w.open(1, kTable);
    w.rows_read(1, rows.index, rows.size());
    // 0: lacking columns, then whole: the stream carries it all, dropped.
    w.on_change(kTable, key(0), counter_only(R"({"id":0,"counter":1})"));
    w.on_change(kTable, key(0), {Kind::Complete, R"({"id":0,"counter":2,"big":"new"})"});
    // 1: whole, then lacking columns: the whole change's values, then the newer counter.
    w.on_change(kTable, key(1), {Kind::Complete, R"({"id":1,"counter":2,"big":"new"})"});
    w.on_change(kTable, key(1), counter_only(R"({"id":1,"counter":3})"));
    // 2: two changes lacking columns, each of other columns: every value the newest carried.
    w.on_change(kTable, key(2), {Kind::Partial, R"({"id":2,"counter":4,"note":"x"})"});
    w.on_change(kTable, key(2), {Kind::Partial, R"({"id":2,"note":"y"})"});
    // 3: lacking columns, then deleted: dropped.
    w.on_change(kTable, key(3), counter_only(R"({"id":3,"counter":1})"));
    w.on_change(kTable, key(3), RowChange{});
    // 4: deleted, then lacking columns again (an UPDATE moved another row onto the key): the
    // values of every change of the key laid over the chunk's row.
    w.on_change(kTable, key(4), RowChange{});
    w.on_change(kTable, key(4), counter_only(R"({"id":4,"counter":5})"));
    // 5: deleted, inserted (whole), then lacking columns: the insert's values under the update's.
    w.on_change(kTable, key(5), RowChange{});
    w.on_change(kTable, key(5), {Kind::Complete, R"({"id":5,"counter":0,"big":"ins"})"});
    w.on_change(kTable, key(5), counter_only(R"({"id":5,"counter":1})"));
    CHECK(dropped_rows(w, 1) == Indexes{0, 3});
    CHECK(patched_rows(w, 1) == Patched{{1, R"({"id":1,"counter":3,"big":"new"})"},
                                        {2, R"({"id":2,"counter":4,"big":"chunk"})"},
                                        {4, R"({"id":4,"counter":5,"big":"chunk"})"},
                                        {5, R"({"id":5,"counter":1,"big":"ins"})"}});
    // A TRUNCATE drops every row, patched ones too.
    w.on_truncate(kTable);
    CHECK(dropped_rows(w, 1) == Indexes{0, 1, 2, 3, 4, 5, 6, 7});
    CHECK(w.patched(1).empty());
}

TEST_CASE("chunk window: logged changes patch the way later ones do, for each chunk its own") {
    const Rows rows(3);
    ChunkWindow w;
    w.open(1, kTable);
    w.on_change(kTable, key(0), counter_only(R"({"id":0,"counter":1})"));
    w.open(2, kTable);  // opened after the first change: only the second counts for it
    w.on_change(kTable, key(0), {Kind::Partial, R"({"id":0,"big":"late"})"});
    w.on_change(kTable, key(2), RowChange{});
    w.rows_read(2, rows.index, rows.size());
    w.rows_read(1, rows.index, rows.size());
    CHECK(dropped_rows(w, 1) == Indexes{2});
    CHECK(dropped_rows(w, 2) == Indexes{2});
    CHECK(patched_rows(w, 1) == Patched{{0, R"({"id":0,"counter":1,"big":"late"})"}});
    CHECK(patched_rows(w, 2) == Patched{{0, R"({"id":0,"counter":0,"big":"late"})"}});
    CHECK(w.logged_changes() == 0);
    // What a window keeps of a change is its own copy.
    std::string after = R"({"id":1,"counter":8})";
    w.on_change(kTable, key(1), counter_only(after));
    after.assign(after.size(), 'x');
    CHECK(patched_rows(w, 1).at(1) == R"({"id":1,"counter":8,"big":"chunk"})");
    CHECK_THROWS_AS(w.on_change(kTable, key(1), counter_only("[1]")), std::invalid_argument);
}
