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

namespace {

// A config for the test database and broker with `postgres_extra` conninfo settings and
// `properties` lines under kafka.properties.
std::string config_with(const std::string& conninfo_extra, const std::string& properties) {
    return write_temp_file("config.yaml",
                           "postgres:\n  conninfo: \"" + pg_conninfo() + conninfo_extra +
                               "\"\n  slot: pgcs_" + unique_suffix() + "\nkafka:\n  brokers: \"" +
                               brokers() + "\"\n  topic_prefix: x\n" +
                               (properties.empty() ? "" : "  properties:\n" + properties));
}

}  // namespace

TEST_CASE("run with a configuration error exits 2 at once, without retrying") {
    struct Case {
        std::string conninfo_extra, properties, named;
    };
    for (const Case& c : {
             Case{"", "    partitioner: random\n", "kafka.properties.partitioner"},
             Case{"", "    topic.acks: 1\n", "kafka.properties.topic.acks"},
             Case{"", "    no.such.property: 1\n", "kafka.properties.no.such.property"},
             // Each is fine alone; librdkafka refuses them together (linger.ms is 5).
             Case{"", "    message.timeout.ms: 1\n", "must be greater than `linger.ms`"},
             Case{" sslmode=bogus", "", "postgres.conninfo"},
             Case{" password=Hunter2 Secret", "", "postgres.conninfo"},
         }) {
        const std::string config = config_with(c.conninfo_extra, c.properties);
        DaemonProcess daemon({bin_dir() + "/pgchangeset", "run", "--config", config},
                             "/tmp/pgcs-test-" + unique_suffix() + ".log");
        const auto started = std::chrono::steady_clock::now();
        auto result = daemon.wait(std::chrono::seconds(10));
        INFO(c.named << "\n" << result.log);
        CHECK(result.exit_code == 2);
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
        CHECK(result.log.find(c.named) != std::string::npos);
        CHECK(result.log.find("Secret") == std::string::npos);
        CHECK(result.log.find("reconnecting") == std::string::npos);
    }
}

TEST_CASE("check-config names what run would refuse, with exit 2") {
    struct Case {
        std::string conninfo_extra, properties, named;
    };
    for (const Case& c : {
             Case{"", "    retries: 0\n", "kafka.properties.retries: must not be 0"},
             Case{"", "    transactional.id: pgcs\n", "kafka.properties.transactional.id"},
             Case{"", "    linger.ms: soon\n", "librdkafka refuses this value"},
             Case{"", "    message.timeout.ms: 1\n", "must be greater than `linger.ms`"},
             Case{" passwd=Hunter2Secret", "", "'passwd' is not a libpq connection keyword"},
             Case{" replication=database", "", "postgres.conninfo: sets replication"},
             Case{" password=Hunter2 Secret", "", "right after the password's value"},
         }) {
        const std::string config = config_with(c.conninfo_extra, c.properties);
        DaemonProcess daemon({bin_dir() + "/pgchangeset", "check-config", "--config", config},
                             "/tmp/pgcs-test-" + unique_suffix() + ".log");
        auto result = daemon.wait(std::chrono::seconds(10));
        INFO(c.named << "\n" << result.log);
        CHECK(result.exit_code == 2);
        CHECK(result.log.find(c.named) != std::string::npos);
        CHECK(result.log.find("Secret") == std::string::npos);
    }
}
