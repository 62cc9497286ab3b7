// Whether a slot may be streamed from or created, decided from pg_replication_slots' row and
// what the daemon knows (a promotion, what it acknowledged): no server needed.
#include "core/source/slot_checks.hpp"

#include <catch2/catch.hpp>

#include "core/source/stream_failure.hpp"

using pgcs::source::SlotInfo;
using pgcs::source::SourceContext;
using pgcs::source::SourceSettings;
using pgcs::source::StreamFailure;

namespace {

SlotInfo good_slot() {
    SlotInfo s;
    s.plugin = "pgoutput";
    s.database = "app";
    s.wal_status = "reserved";
    s.confirmed_flush = 0x1000;
    return s;
}

SourceContext promoted(pgcs::Lsn acknowledged, bool from_standby = false) {
    SourceContext c;
    c.timeline = 2;
    c.promotion = SourceContext::Promotion{1, acknowledged, from_standby};
    return c;
}

}  // namespace

TEST_CASE("slot checks: an existing slot is pgoutput's, in this database, not invalidated") {
    using pgcs::source::check_existing_slot;
    CHECK_NOTHROW(check_existing_slot("s", good_slot(), "app"));
    auto other = good_slot();
    other.plugin = "wal2json";
    CHECK_THROWS_WITH(check_existing_slot("s", other, "app"),
                      Catch::Contains("uses plugin 'wal2json', not pgoutput"));
    CHECK_THROWS_WITH(check_existing_slot("s", good_slot(), "other"),
                      Catch::Contains("belongs to database 'app'"));
    auto lost = good_slot();
    lost.wal_status = "lost";
    CHECK_THROWS_WITH(check_existing_slot("s", lost, "app"), Catch::Contains("invalidated"));
}

TEST_CASE("slot checks: after a promotion, the slot is a synced copy not ahead of the ack") {
    using pgcs::source::check_promoted_slot;
    auto slot = good_slot();
    CHECK_THROWS_WITH(check_promoted_slot("s", slot, 170010, promoted(0x2000)),
                      Catch::Contains("was not synchronised from the old primary"));
    // Made on this server while the daemon streamed from it as a standby: the same slot.
    CHECK_NOTHROW(check_promoted_slot("s", slot, 170010, promoted(0x2000, true)));
    // Before 17 there is no synced column to ask.
    CHECK_NOTHROW(check_promoted_slot("s", slot, 160014, promoted(0x2000)));
    slot.synced = true;
    CHECK_NOTHROW(check_promoted_slot("s", slot, 170010, promoted(0x1000)));
    CHECK_THROWS_WITH(check_promoted_slot("s", slot, 170010, promoted(0x0800)),
                      Catch::Contains("ahead of what pgchangeset acknowledged (0/800)"));
    slot.active = true;  // another process streams it: left to it
    CHECK_NOTHROW(check_promoted_slot("s", slot, 170010, promoted(0x0800)));
}

TEST_CASE("slot checks: a missing slot is created only when nothing can have been skipped") {
    using pgcs::source::check_slot_may_be_created;
    SourceSettings s;
    s.slot = "s";
    CHECK_NOTHROW(check_slot_may_be_created(s, SourceContext{}));
    CHECK_THROWS_WITH(check_slot_may_be_created(s, promoted(0x1000)),
                      Catch::Contains("does not exist on the promoted server"));
    SourceContext second_timeline;
    second_timeline.timeline = 2;
    CHECK_NOTHROW(check_slot_may_be_created(s, second_timeline));
    s.failover = true;
    CHECK_THROWS_WITH(check_slot_may_be_created(s, second_timeline),
                      Catch::Contains("promoted once (timeline 2)"));
    s.failover = false;
    s.create_slot = false;
    CHECK_THROWS_AS(check_slot_may_be_created(s, SourceContext{}), StreamFailure);
}

TEST_CASE("slot checks: on a reconnect a dropped or invalidated slot stops the stream") {
    using pgcs::source::check_slot_still_usable;
    CHECK_NOTHROW(check_slot_still_usable(good_slot(), "s", 0x1000));
    CHECK_THROWS_WITH(check_slot_still_usable(std::nullopt, "s", 0x1000),
                      Catch::Contains("was dropped") && Catch::Contains("after 0/1000"));
    auto lost = good_slot();
    lost.wal_status = "lost";
    CHECK_THROWS_WITH(check_slot_still_usable(lost, "s", 0x1000),
                      Catch::Contains("was invalidated"));
}
