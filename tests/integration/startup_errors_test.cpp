// Bad set-ups fail fast with a clear message and leave no slot or publication behind.
#include "support/capture_fixture.hpp"

using namespace pgcs::testing;

TEST_CASE("an unknown table stops the daemon with a clear error and creates nothing") {
    const std::string sfx = unique_suffix();
    const std::string slot = "pgcs_" + sfx;
    const std::string config = write_temp_file(
        "config.yaml", "postgres:\n  conninfo: \"" + pg_conninfo() + "\"\n  slot: " + slot +
                           "\n  publication: " + slot + "\n  tables: [public.no_such_" + sfx +
                           "]\nkafka:\n  brokers: \"" + brokers() + "\"\n  topic_prefix: x\n");
    DaemonProcess daemon({bin_dir() + "/pgchangeset", "run", "--config", config},
                         "/tmp/pgcs-test-" + sfx + ".log");
    auto result = daemon.wait(std::chrono::seconds(30));
    INFO(result.log);
    CHECK(result.exit_code == 1);
    CHECK(result.log.find("public.no_such_" + sfx + ": no such table") != std::string::npos);
    PgClient pg(pg_conninfo());
    CHECK(pg.value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'") ==
          "0");
    CHECK(pg.value("SELECT count(*) FROM pg_publication WHERE pubname = '" + slot + "'") == "0");
}

TEST_CASE("check-config reports problems with exit 2 and opens no connection") {
    const std::string config = write_temp_file("bad.yaml",
                                               "postgres:\n  conninfo: \"host=127.0.0.1 port=1\"\n"
                                               "  slott: x\nkafka:\n  topic_prefix: app\n");
    DaemonProcess daemon({bin_dir() + "/pgchangeset", "check-config", "--config", config},
                         "/tmp/pgcs-test-" + unique_suffix() + ".log");
    auto result = daemon.wait(std::chrono::seconds(10));
    INFO(result.log);
    CHECK(result.exit_code == 2);
    CHECK(result.log.find("slott") != std::string::npos);
    CHECK(result.log.find("kafka.brokers") != std::string::npos);
}
