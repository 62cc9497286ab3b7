// PostgreSQL 13 and older are refused at start: exit 2 (a configuration problem, not retried)
// naming the version found and the ones supported, with nothing created on the server. Runs
// against a real 13 only (label pg13, tag [pg13]: deploy/test-pg-matrix.sh starts one).
#include "support/capture_fixture.hpp"

using namespace pgcs::testing;

TEST_CASE("PostgreSQL 13 is refused at start with exit 2, naming the versions supported",
          "[pg13]") {
    PgClient pg(pg_conninfo());
    const std::string version = pg.value("SHOW server_version");
    INFO("the server is " << version);
    REQUIRE(std::stoi(pg.value("SHOW server_version_num")) / 10000 == 13);
    const std::string sfx = unique_suffix();
    const std::string slot = "pgcs_" + sfx;
    pg.exec("CREATE TABLE t_" + sfx + " (id int PRIMARY KEY)");
    // The default snapshot.mode (initial), as a new user would run it.
    const std::string config = write_temp_file(
        "config.yaml", "postgres:\n  conninfo: \"" + pg_conninfo() + "\"\n  slot: " + slot +
                           "\n  publication: " + slot + "\n  tables: [public.t_" + sfx +
                           "]\nkafka:\n  brokers: \"" + brokers() +
                           "\"\n  topic_prefix: old\nreconnect:\n  initial_backoff_ms: 100\n");
    DaemonProcess daemon({bin_dir() + "/pgchangeset", "run", "--config", config},
                         "/tmp/pgcs-test-" + sfx + ".log");
    const auto result = daemon.wait(std::chrono::seconds(60));
    pg.exec("DROP TABLE t_" + sfx);
    INFO(result.log);
    CHECK(result.exit_code == 2);
    CHECK(result.log.find("PostgreSQL " + version +
                          " is not supported: pgchangeset supports PostgreSQL 14 to 18") !=
          std::string::npos);
    CHECK(result.log.find("reconnecting") == std::string::npos);
    CHECK(pg.value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'") ==
          "0");
    CHECK(pg.value("SELECT count(*) FROM pg_publication WHERE pubname = '" + slot + "'") == "0");
    CHECK(pg.value("SELECT count(*) FROM pg_tables WHERE tablename = 'pgchangeset_snapshots'") ==
          "0");
}
