// pg_current_snapshot() text, visibility of a published transaction, and the published-xid ring.
#include "core/snapshot/xid_snapshot.hpp"

#include <catch2/catch.hpp>

#include "core/snapshot/snapshot_store.hpp"

using pgcs::snapshot::RecentXids;
using pgcs::snapshot::SnapshotStore;
using pgcs::snapshot::XidSnapshot;

TEST_CASE("pg_current_snapshot text parses, with and without running transactions") {
    const auto empty = XidSnapshot::parse("749:749:");
    REQUIRE(empty);
    CHECK(empty->xmin == 749);
    CHECK(empty->xmax == 749);
    CHECK(empty->xip.empty());

    const auto busy = XidSnapshot::parse("4294967300:4294967310:4294967300,4294967305");
    REQUIRE(busy);
    CHECK(busy->xip == std::vector<std::uint64_t>{4294967300ULL, 4294967305ULL});

    for (const char* bad : {"", "1:2", "x:2:", "5:4:", "1:2:3,", "1:2:a", "1:2:3,,4"}) {
        INFO(bad);
        CHECK_FALSE(XidSnapshot::parse(bad));
    }
}

TEST_CASE("a transaction may be hidden from a snapshot when it was running or started after it") {
    const auto s = XidSnapshot::parse("100:110:103,107");
    REQUIRE(s);
    CHECK_FALSE(s->may_hide(99));
    CHECK_FALSE(s->may_hide(104));
    CHECK(s->may_hide(103));
    CHECK(s->may_hide(107));
    CHECK(s->may_hide(110));
    CHECK(s->may_hide(5000));
    // xid8 values past the first epoch compare by their low 32 bits, modulo wraparound.
    const auto wrapped = XidSnapshot::parse("4294967290:4294967306:4294967301");
    REQUIRE(wrapped);
    CHECK(wrapped->may_hide(5));        // 4294967301 & 0xffffffff
    CHECK_FALSE(wrapped->may_hide(4));  // 4294967300: committed before
    CHECK_FALSE(wrapped->may_hide(4294967295U));
    CHECK(wrapped->may_hide(10));  // = xmax
}

TEST_CASE("the ring finds a published transaction that a snapshot saw running") {
    RecentXids ring(4);
    const auto s = XidSnapshot::parse("100:110:103,107");
    REQUIRE(s);
    CHECK_FALSE(ring.any_published_while_running(*s, ring.added()));
    ring.add(101);
    ring.add(102);
    CHECK_FALSE(ring.any_published_while_running(*s, ring.added()));
    ring.add(107);
    CHECK(ring.any_published_while_running(*s, ring.added()));
    // Published after the read began: not this check's (the stream drops those keys).
    CHECK_FALSE(ring.any_published_while_running(*s, 2));
    // Four more (completed before the snapshot) push 107 out of a ring of four.
    for (std::uint32_t x : {104U, 105U, 106U, 108U}) {
        ring.add(x);
    }
    CHECK_FALSE(ring.any_published_while_running(*s, ring.added()));
    ring.add(103);
    CHECK(ring.any_published_while_running(*s, ring.added()));
}

TEST_CASE("the ring finds a published transaction the snapshot had not seen completed yet") {
    // Seen in a run: transaction 499509 reached the stream (its commit record was decoded and
    // published) just before a chunk was read, but PostgreSQL had not yet marked it completed
    // for new snapshots: the chunk's snapshot was 499509:499509: (xmax = the transaction, no
    // xip), so its rows lacked that transaction's changes, and no window held them.
    RecentXids ring(8);
    const auto s = XidSnapshot::parse("499509:499509:");
    REQUIRE(s);
    ring.add(499507);
    ring.add(499508);
    CHECK_FALSE(ring.any_published_while_running(*s, ring.added()));
    ring.add(499509);
    CHECK(ring.any_published_while_running(*s, ring.added()));
    CHECK_FALSE(ring.any_published_while_running(*s, 2));  // published after the read began
}

TEST_CASE("snapshot progress keys round-trip through their JSON form") {
    const std::vector<std::string> key{"42", "a \"quoted\" \\ value", "", "ünïcode"};
    const std::string json = SnapshotStore::key_json(key);
    CHECK(json == R"(["42","a \"quoted\" \\ value","","ünïcode"])");
    CHECK(SnapshotStore::parse_key_json(json) == key);
    CHECK(SnapshotStore::parse_key_json("").empty());
    CHECK_THROWS_WITH(SnapshotStore::parse_key_json("{\"a\":1}"),
                      Catch::Contains("not a JSON array"));
    CHECK_THROWS_WITH(SnapshotStore::parse_key_json("[1]"), Catch::Contains("non-string"));
}
