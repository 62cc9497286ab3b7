// snapshot.mode initial means one thing: a snapshot when the slot has none recorded, whoever
// made the slot, and never again once it is complete; the log says what was decided and why.
#include <chrono>
#include <string>
#include <thread>

#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::KafkaReader;
using pgcs::testing::occurrences;
using pgcs::testing::parse_json;

namespace {

constexpr const char* kTable = "CREATE TABLE {table} (id int8 PRIMARY KEY, note text)";

// Events on the table's topic: how many `read`, how many in all.
struct Counts {
    std::size_t reads = 0;
    std::size_t events = 0;
};

Counts count_events(CaptureFixture& f) {
    Counts c;
    KafkaReader reader(pgcs::testing::brokers());
    reader.visit_to_end(f.topic(), [&](pgcs::testing::Record&& rec) {
        if (rec.null_value) {
            return;
        }
        ++c.events;
        c.reads += std::string(parse_json(rec.value)["op"].GetString()) == "read" ? 1 : 0;
    });
    return c;
}

// Waits until `n` events are on the topic (30 s at most).
Counts wait_for_events(CaptureFixture& f, std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    Counts c = count_events(f);
    while (c.events < n && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        c = count_events(f);
    }
    return c;
}

// A restart after the snapshot completed reads nothing again, says so, and streams: with
// `events` on the topic (`reads` of them read events), one row more gives one event more.
void check_restart_reads_nothing_again(CaptureFixture& f, std::size_t reads, std::size_t events) {
    f.stop_daemon();
    f.start_daemon();
    REQUIRE(f.wait_for_log("already has its snapshot, completed at"));
    f.exec("INSERT INTO {table} VALUES (1000000, 'after restart')");
    const Counts second = wait_for_events(f, events + 1);
    INFO(f.daemon_log());
    CHECK(second.reads == reads);
    CHECK(second.events == events + 1);
}

std::string state(CaptureFixture& f) {
    return f.pg().value(
        "SELECT string_agg(state || ' ' || rows_done, ',') FROM "
        "pgchangeset_snapshots WHERE slot_name = '" +
        f.slot() + "'");
}

}  // namespace

TEST_CASE("initial: a slot a DBA made gets its snapshot, once, and the log says why",
          "[snapshot]") {
    CaptureFixture f(kTable);
    f.exec("INSERT INTO {table} SELECT g, 'old' FROM generate_series(1, 300) g");
    // As a DBA does it: the publication first (pgoutput reads it as of each change), then the
    // slot; pgchangeset finds both.
    f.exec("CREATE PUBLICATION " + f.slot() + " FOR TABLE {table}");
    f.pg().exec("SELECT 1 FROM pg_create_logical_replication_slot('" + f.slot() + "', 'pgoutput')");
    f.extra_config = "snapshot:\n  mode: initial\n  chunk_size: 100\n";
    f.start_daemon();
    REQUIRE(f.wait_for_log("slot " + f.slot() + " has no snapshot recorded"));
    REQUIRE(f.wait_for_log("reading 1 tables"));
    REQUIRE(f.wait_for_log("snapshot of public." + f.table() + " complete"));
    f.exec("INSERT INTO {table} VALUES (1000, 'new')");
    const Counts first = wait_for_events(f, 301);
    CHECK(first.reads == 300);
    CHECK(first.events == 301);
    CHECK(state(f) == "done 300");

    // A restart after completion reads nothing again, and says so.
    check_restart_reads_nothing_again(f, 300, 301);
    CHECK(occurrences(f.daemon_log(), "reading 1 tables") == 1);  // the first start's
}

TEST_CASE(
    "initial: the slot pgchangeset creates gets its snapshot, and a restart does not read it again",
    "[snapshot]") {
    CaptureFixture f(kTable);
    f.exec("INSERT INTO {table} SELECT g, 'old' FROM generate_series(1, 50) g");
    f.extra_config = "snapshot:\n  mode: initial\n";
    f.start_daemon();
    REQUIRE(f.wait_for_log("slot " + f.slot() + " is new: reading 1 tables"));
    REQUIRE(f.wait_for_log("snapshot of public." + f.table() + " complete"));
    const Counts first = wait_for_events(f, 50);
    CHECK(first.reads == 50);
    check_restart_reads_nothing_again(f, 50, 50);
}

TEST_CASE("initial on an existing slot whose snapshot records were deleted reads again",
          "[snapshot]") {
    // "Recorded" is the progress table's rows of the slot: without them the slot has none.
    CaptureFixture f(kTable);
    f.exec("INSERT INTO {table} SELECT g, 'old' FROM generate_series(1, 20) g");
    f.extra_config = "snapshot:\n  mode: initial\n";
    f.start_daemon();
    REQUIRE(f.wait_for_log("snapshot of public." + f.table() + " complete"));
    REQUIRE(wait_for_events(f, 20).reads == 20);
    f.stop_daemon();
    f.pg().exec("DELETE FROM pgchangeset_snapshots WHERE slot_name = '" + f.slot() + "'");
    f.start_daemon();
    REQUIRE(f.wait_for_log("has no snapshot recorded in"));
    REQUIRE(f.wait_for_log("snapshot of public." + f.table() + " complete"));
    CHECK(wait_for_events(f, 40).reads == 40);
}
