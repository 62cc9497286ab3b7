#include "core/ack/ack_tracker.hpp"

#include <catch2/catch.hpp>

using pgcs::ack::AckTracker;

TEST_CASE("watermark starts at the slot's confirmed flush position") {
    AckTracker t(0x1000);
    CHECK(t.flush_lsn() == 0x1000);
    CHECK(t.idle());
}

TEST_CASE("a transaction is acknowledged only when all its events are delivered") {
    AckTracker t(0);
    auto a = t.add_transaction(100, 3);
    t.on_delivered(a);
    t.on_delivered(a);
    CHECK(t.flush_lsn() == 0);
    CHECK(t.in_flight_messages() == 1);
    t.on_delivered(a);
    CHECK(t.flush_lsn() == 100);
    CHECK(t.idle());
}

TEST_CASE("out-of-order delivery never moves the watermark past an undelivered transaction") {
    AckTracker t(0);
    auto t1 = t.add_transaction(100, 1);
    auto t2 = t.add_transaction(200, 1);
    auto t3 = t.add_transaction(300, 2);
    t.on_delivered(t3);
    t.on_delivered(t3);
    t.on_delivered(t2);
    CHECK(t.flush_lsn() == 0);
    t.on_delivered(t1);
    CHECK(t.flush_lsn() == 300);
    CHECK(t.pending_transactions() == 0);
}

TEST_CASE("delivered 1, 4, 5 and failed 2, 3: the watermark stays at 1 and the failure is kept") {
    AckTracker t(0);
    auto t1 = t.add_transaction(10, 1);
    auto t2 = t.add_transaction(20, 1);
    auto t3 = t.add_transaction(30, 1);
    auto t4 = t.add_transaction(40, 1);
    auto t5 = t.add_transaction(50, 1);
    t.on_delivered(t1);
    t.on_delivered(t4);
    t.on_delivered(t5);
    t.on_failed(t2, "Local: Message timed out");
    t.on_failed(t3, "Local: Message timed out");
    CHECK(t.flush_lsn() == 10);
    REQUIRE(t.failure().has_value());
    CHECK(*t.failure() == "Local: Message timed out");
    CHECK(t.in_flight_messages() == 0);
    CHECK_FALSE(t.idle());  // the failed transaction is still unacknowledged
    t.on_keepalive(1000);
    CHECK(t.flush_lsn() == 10);
}

TEST_CASE("an empty transaction completes when everything before it has") {
    AckTracker t(0);
    auto t1 = t.add_transaction(10, 1);
    t.add_transaction(20, 0);
    CHECK(t.flush_lsn() == 0);
    t.on_delivered(t1);
    CHECK(t.flush_lsn() == 20);
    AckTracker u(5);
    u.add_transaction(30, 0);
    CHECK(u.flush_lsn() == 30);
}

TEST_CASE("keepalive position is acknowledged only when idle") {
    AckTracker t(0);
    t.on_keepalive(500);
    CHECK(t.flush_lsn() == 500);

    auto a = t.add_transaction(600, 1);
    t.on_keepalive(700);
    CHECK(t.flush_lsn() == 500);  // in flight
    t.on_delivered(a);
    CHECK(t.flush_lsn() == 600);

    t.set_transaction_open(true);
    t.on_keepalive(800);
    CHECK(t.flush_lsn() == 600);  // inside a transaction
    t.set_transaction_open(false);
    t.on_keepalive(800);
    CHECK(t.flush_lsn() == 800);
}

TEST_CASE("the watermark never goes backwards") {
    AckTracker t(1000);
    t.on_keepalive(900);
    CHECK(t.flush_lsn() == 1000);
    auto a = t.add_transaction(950, 1);  // replayed transaction below the slot's position
    t.on_delivered(a);
    CHECK(t.flush_lsn() == 1000);
}

TEST_CASE("misuse is reported, not ignored") {
    AckTracker t(0);
    auto a = t.add_transaction(10, 1);
    t.on_delivered(a);
    CHECK_THROWS_AS(t.on_delivered(a), std::logic_error);
    CHECK_THROWS_AS(t.on_delivered(a + 5), std::logic_error);
    t.add_transaction(100, 1);
    CHECK_THROWS_AS(t.add_transaction(50, 1), std::logic_error);
}

TEST_CASE("an unsealed transaction is never acknowledged, even with every event delivered") {
    AckTracker t(0);
    auto a = t.open_transaction(100);
    t.add_events(a, 2);
    t.on_delivered(a);
    t.on_delivered(a);
    CHECK(t.flush_lsn() == 0);  // more events may still come
    t.add_events(a, 1);
    t.seal(a);
    CHECK(t.flush_lsn() == 0);
    t.on_delivered(a);
    CHECK(t.flush_lsn() == 100);
    CHECK_THROWS_AS(t.add_events(a, 1), std::logic_error);
}

TEST_CASE("an abandoned transaction never moves the watermark, but does not block the next") {
    AckTracker t(0);
    auto partial = t.open_transaction(100, 7);
    t.add_events(partial, 2);  // two of its events reached librdkafka before the interruption
    t.abandon(partial);
    auto again = t.add_transaction(100, 3);  // the same transaction, sent again in full
    t.on_delivered(partial);
    t.on_delivered(partial);
    CHECK(t.flush_lsn() == 0);  // the partial copy alone proves nothing
    CHECK(t.acknowledged_commit_time() == 0);
    t.on_delivered(again);
    t.on_delivered(again);
    CHECK(t.flush_lsn() == 0);
    t.on_delivered(again);
    CHECK(t.flush_lsn() == 100);
    CHECK(t.idle());
}

TEST_CASE("the commit time of the newest acknowledged transaction is kept for lag") {
    AckTracker t(0);
    auto a = t.open_transaction(10, 1000);
    t.add_events(a, 1);
    t.seal(a);
    auto b = t.open_transaction(20, 2000);
    t.seal(b);
    CHECK(t.acknowledged_commit_time() == 0);
    t.on_delivered(a);
    CHECK(t.acknowledged_commit_time() == 2000);
}
