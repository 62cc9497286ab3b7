// The condition of an on-demand snapshot cannot end the chunk query early: `--where` with a
// comment or an unbalanced parenthesis is refused before anything is recorded, and one recorded
// by hand fails the table's snapshot instead of re-reading the table for ever.
#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::DaemonProcess;
using pgcs::testing::KafkaReader;
using pgcs::testing::RunResult;

namespace {

constexpr const char* kTable =
    "CREATE TABLE {table} (id int8 PRIMARY KEY, v int NOT NULL, note text)";

}  // namespace

TEST_CASE("snapshot --where that comments out the key range is refused, and fails if stored",
          "[snapshot]") {
    CaptureFixture f(kTable);
    f.exec("INSERT INTO {table} SELECT g, 0, 'row ' || g FROM generate_series(1, 500) g");
    f.extra_config = "snapshot:\n  mode: initial\n  chunk_size: 100\n";
    f.start_daemon();
    REQUIRE(f.wait_for_log("snapshot of public." + f.table() + " complete"));
    const std::string row = "FROM pgchangeset_snapshots WHERE slot_name = '" + f.slot() +
                            "' AND table_name = 'public." + f.table() + "'";
    REQUIRE(f.pg().value("SELECT state || ':' || coalesce(condition, '') " + row) == "done:");

    DaemonProcess cli({pgcs::testing::bin_dir() + "/pgchangeset", "snapshot", "--config",
                       f.config_path(), "--table", "public." + f.table(), "--where", "id > 0) --"},
                      "/tmp/pgcs-snapshot-cli-" + f.slot() + ".log");
    const RunResult refused = cli.wait(std::chrono::seconds(30));
    INFO(refused.log);
    CHECK(refused.exit_code == 2);
    CHECK(refused.log.find("--where 'id > 0) --' closes a parenthesis it did not open") !=
          std::string::npos);
    // Nothing recorded: the finished snapshot's row is as it was.
    CHECK(f.pg().value("SELECT state || ':' || coalesce(condition, '') " + row) == "done:");

    // The same condition written into the progress table by hand: the daemon refuses it too.
    f.pg().exec(
        "UPDATE pgchangeset_snapshots SET condition = 'id > 0) --', state = 'pending', "
        "last_key = NULL, rows_done = 0, generation = generation + 1 " +
        row.substr(std::string("FROM pgchangeset_snapshots").size()));
    REQUIRE(
        f.pg().wait_for("SELECT state " + row, [](const std::string& v) { return v == "failed"; }));
    CHECK(f.pg().value("SELECT message " + row).find("closes a parenthesis it did not open") !=
          std::string::npos);
    // No row was read again: 500 read events, from the initial snapshot only.
    KafkaReader reader(pgcs::testing::brokers());
    CHECK(reader.read_all(f.topic(), 500, std::chrono::seconds(2)).size() == 500);
}
