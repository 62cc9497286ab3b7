// When the stream loop sends a standby status update, and a silent server: from time points
// given by the test (no clock is read, nothing waits).
#include "core/source/status_schedule.hpp"

#include <catch2/catch.hpp>

#include "core/source/pg_connection.hpp"

using pgcs::source::PgError;
using pgcs::source::StatusSchedule;
using std::chrono::milliseconds;

namespace {

const StatusSchedule::Clock::time_point t0{std::chrono::hours(1)};

StatusSchedule started() {
    StatusSchedule s(milliseconds(10000), milliseconds(30000));
    s.heard(t0);
    return s;
}

}  // namespace

TEST_CASE("status: one update per status interval, any number when forced") {
    StatusSchedule s = started();
    REQUIRE(s.due(t0, 0x100, 0x80, false, true));
    CHECK_FALSE(s.due(t0 + milliseconds(9999), 0x100, 0x80, false, true));
    CHECK(s.due(t0 + milliseconds(5000), 0x100, 0x80, true, true));  // forced: a reply asked for
    CHECK_FALSE(s.due(t0 + milliseconds(10000), 0x100, 0x80, false, true));  // counts from there
    CHECK(s.due(t0 + milliseconds(15000), 0x100, 0x80, false, true));
}

TEST_CASE("status: write is the furthest of received and acknowledged, flush the acknowledged") {
    StatusSchedule s = started();
    const auto u = s.due(t0, 0x100, 0x80, true, true);
    REQUIRE(u);
    CHECK(u->write == 0x100);
    CHECK(u->flush == 0x80);
    CHECK_FALSE(u->reply_requested);
    // Acknowledged ahead of what was received (an idle slot's keepalive position).
    CHECK(s.due(t0, 0x100, 0x200, true, true)->write == 0x200);
}

TEST_CASE("status: a server silent for half the read timeout is asked for a reply") {
    StatusSchedule s = started();
    CHECK_FALSE(s.due(t0 + milliseconds(15000), 0, 0, true, true)->reply_requested);
    CHECK(s.due(t0 + milliseconds(15001), 0, 0, true, true)->reply_requested);
    s.heard(t0 + milliseconds(16000));
    CHECK_FALSE(s.due(t0 + milliseconds(20000), 0, 0, true, true)->reply_requested);
}

TEST_CASE("status: a server silent for the whole read timeout is a lost connection") {
    StatusSchedule s = started();
    CHECK(s.due(t0 + milliseconds(30000), 0, 0, true, true));
    CHECK_THROWS_AS(s.due(t0 + milliseconds(31000), 0, 0, true, true), PgError);
    CHECK_THROWS_WITH(s.due(t0 + milliseconds(31000), 0, 0, true, true),
                      Catch::Contains("no message from PostgreSQL for 31 s"));
}

TEST_CASE("status: silence does not count while back-pressure keeps the socket unread") {
    StatusSchedule s = started();
    const auto u = s.due(t0 + milliseconds(60000), 0, 0x80, false, false);
    REQUIRE(u);
    CHECK_FALSE(u->reply_requested);
    CHECK(u->flush == 0x80);
}
