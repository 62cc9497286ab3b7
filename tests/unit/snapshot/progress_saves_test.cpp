// ProgressSaves: a chunk's progress is saved only once Kafka acknowledged it and every earlier
// chunk of its table, in key order; a table requested again forgets its older saves.
#include "core/snapshot/progress_saves.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

using pgcs::snapshot::ProgressSaves;

namespace {

const std::string kOrders = "\"public\".\"orders\"";
const std::string kItems = "\"public\".\"items\"";

ProgressSaves::Save chunk(const std::string& table, std::int64_t generation, std::uint64_t sequence,
                          std::uint64_t end_lsn, bool done = false) {
    return {end_lsn, table, generation, sequence, {std::to_string((sequence + 1) * 100)}, 10, done};
}

// Saves every chunk `flush_lsn` allows, as (table, sequence), in order.
std::vector<std::pair<std::string, std::uint64_t>> save_ready(ProgressSaves& saves,
                                                              std::uint64_t flush_lsn) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    while (const ProgressSaves::Save* s = saves.next_ready(flush_lsn)) {
        out.emplace_back(s->table, s->sequence);
        saves.mark_saved(s);
    }
    return out;
}

using Saved = std::vector<std::pair<std::string, std::uint64_t>>;

}  // namespace

TEST_CASE("progress saves: a chunk waits for Kafka's flush position to reach its end") {
    ProgressSaves saves;
    saves.start(kOrders, 1);
    saves.add(chunk(kOrders, 1, 0, 1000));
    CHECK(save_ready(saves, 999).empty());
    CHECK_FALSE(saves.empty());
    CHECK(save_ready(saves, 1000) == Saved{{kOrders, 0}});
    CHECK(saves.empty());
}

TEST_CASE("progress saves: a chunk waits for every earlier chunk of its table") {
    ProgressSaves saves;
    saves.start(kOrders, 1);
    // Chunk 1's watermark reached the WAL before chunk 0's (two readers).
    saves.add(chunk(kOrders, 1, 1, 1000));
    saves.add(chunk(kOrders, 1, 0, 2000));
    saves.add(chunk(kOrders, 1, 2, 3000));
    CHECK(save_ready(saves, 1500).empty());  // chunk 1 acknowledged, chunk 0 not yet
    CHECK(save_ready(saves, 2500) == Saved{{kOrders, 0}, {kOrders, 1}});
    CHECK(save_ready(saves, 2500).empty());
    CHECK(save_ready(saves, 3000) == Saved{{kOrders, 2}});
}

TEST_CASE("progress saves: the tables' orders are independent") {
    ProgressSaves saves;
    saves.start(kOrders, 1);
    saves.start(kItems, 5);
    saves.add(chunk(kOrders, 1, 1, 100));
    saves.add(chunk(kItems, 5, 0, 200));
    CHECK(save_ready(saves, 300) == Saved{{kItems, 0}});  // orders' chunk 0 is missing
    saves.add(chunk(kOrders, 1, 0, 400));
    CHECK(save_ready(saves, 400) == Saved{{kOrders, 0}, {kOrders, 1}});
}

TEST_CASE("progress saves: a save not marked written is offered again") {
    ProgressSaves saves;
    saves.start(kOrders, 1);
    saves.add(chunk(kOrders, 1, 0, 100));
    saves.add(chunk(kOrders, 1, 1, 100));
    const ProgressSaves::Save* first = saves.next_ready(100);
    REQUIRE(first != nullptr);
    CHECK(first->sequence == 0);
    CHECK(first->last_key == std::vector<std::string>{"100"});
    CHECK(first->rows == 10);
    // The write failed (the connection was lost): the same save comes again, not the next.
    const ProgressSaves::Save* again = saves.next_ready(100);
    REQUIRE(again != nullptr);
    CHECK(again->sequence == 0);
    saves.mark_saved(again);
    CHECK(save_ready(saves, 100) == Saved{{kOrders, 1}});
}

TEST_CASE("progress saves: a table requested again discards the old generation's saves") {
    ProgressSaves saves;
    saves.start(kOrders, 1);
    saves.add(chunk(kOrders, 1, 0, 100));
    saves.add(chunk(kOrders, 1, 1, 200));
    saves.start(kOrders, 2);  // requested again: starts over from chunk 0
    CHECK(saves.empty());
    saves.add(chunk(kOrders, 1, 2, 300));  // a late chunk of generation 1: ignored
    CHECK(save_ready(saves, 1000).empty());
    CHECK(saves.empty());
    saves.add(chunk(kOrders, 2, 0, 400));
    CHECK(save_ready(saves, 1000) == Saved{{kOrders, 0}});
}

TEST_CASE("progress saves: a stopped table's saves are dropped, an unknown table's ignored") {
    ProgressSaves saves;
    saves.add(chunk(kItems, 1, 0, 100));  // never started
    CHECK(saves.empty());
    saves.start(kOrders, 1);
    saves.add(chunk(kOrders, 1, 0, 100));
    saves.stop(kOrders);  // failed or cancelled
    CHECK(saves.empty());
    CHECK(save_ready(saves, 1000).empty());
}

TEST_CASE("progress saves: the table ends with its last chunk") {
    ProgressSaves saves;
    saves.start(kOrders, 1);
    saves.add(chunk(kOrders, 1, 0, 100));
    saves.add(chunk(kOrders, 1, 1, 200, true));
    const ProgressSaves::Save* first = saves.next_ready(1000);
    REQUIRE(first != nullptr);
    CHECK_FALSE(first->done);
    saves.mark_saved(first);
    const ProgressSaves::Save* last = saves.next_ready(1000);
    REQUIRE(last != nullptr);
    CHECK(last->done);
    saves.mark_saved(last);
    saves.add(chunk(kOrders, 1, 2, 300));  // after the end: ignored
    CHECK(saves.empty());
}
