// An event larger than Kafka or the producer takes: the daemon stays up, halted (readyz 503,
// pgchangeset_halted 1, status naming the event, a log line with the remedy), acknowledges
// nothing from that transaction on, and tries it again on a timer; raising the topic's limit
// on the broker unblocks it without a restart.
#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "support/capture_fixture.hpp"
#include "support/http_client.hpp"
#include "support/kafka_client.hpp"

using namespace pgcs::testing;

namespace {

// /readyz once it says the daemon is halted (the state reaches the HTTP server a moment after
// the log line), or its last answer after 10 s.
std::string readyz_when_halted(int port) {
    std::string ready;
    for (int i = 0; i < 100; ++i) {
        ready = http_get(port, "/readyz");
        if (ready.find("halted (") != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ready;
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

// The end LSN of the transaction the daemon halted on, as its log line names it.
std::string halted_transaction_end(const std::string& log) {
    const std::string mark = "transaction ending at ";
    const auto at = log.find(mark);
    if (at == std::string::npos) {
        return "";
    }
    const auto from = at + mark.size();
    return log.substr(from, log.find(')', from) - from);
}

// The slot was not acknowledged up to the halted transaction's end: it comes again after a
// restart. (Positions before it may be acknowledged: other databases' WAL moves the slot on
// while the daemon is idle, which is why a position read before the insert will not do.)
bool slot_not_past_halted(CaptureFixture& fx) {
    const std::string end = halted_transaction_end(fx.daemon_log());
    INFO("halted transaction ends at '" << end << "'");
    REQUIRE(!end.empty());
    return fx.pg().value("SELECT confirmed_flush_lsn < '" + end +
                         "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + fx.slot() +
                         "'") == "t";
}

std::string run_status(const std::string& config) {
    DaemonProcess status({bin_dir() + "/pgchangeset", "status", "--config", config},
                         "/tmp/pgcs-test-" + unique_suffix() + ".log");
    return status.wait(std::chrono::seconds(30)).log;
}

// Sets one configuration entry of a topic with librdkafka's admin API (IncrementalAlterConfigs
// is not in librdkafka 2.0: AlterConfigs replaces the topic's settings, fine for a test topic).
void set_topic_config(const std::string& topic, const std::string& name, const std::string& value) {
    const pgcs::testing::KafkaClientPtr client = pgcs::testing::test_kafka_client(brokers());
    rd_kafka_t* rk = client.get();
    rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
    rd_kafka_ConfigResource_t* res =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
    rd_kafka_ConfigResource_set_config(res, name.c_str(), value.c_str());
    rd_kafka_AlterConfigs(rk, &res, 1, nullptr, queue);
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 15000);
    std::string failure = event == nullptr ? "no answer within 15 s" : "";
    if (event != nullptr && rd_kafka_event_error(event)) {
        failure = rd_kafka_event_error_string(event);
    } else if (event != nullptr) {
        size_t n = 0;
        const rd_kafka_ConfigResource_t** out =
            rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(event), &n);
        for (size_t i = 0; i < n; ++i) {
            if (rd_kafka_ConfigResource_error(out[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                failure = rd_kafka_ConfigResource_error_string(out[i]);
            }
        }
    }
    if (event != nullptr) {
        rd_kafka_event_destroy(event);
    }
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_queue_destroy(queue);
    INFO("AlterConfigs " << topic << " " << name << "=" << value);
    REQUIRE(failure.empty());
}

}  // namespace

TEST_CASE(
    "an event over the producer's message.max.bytes halts the daemon: up, not ready, "
    "retried, SIGTERM exits 0") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    const int port = free_port();
    fx.kafka_extra = "  properties:\n    message.max.bytes: 2000\n";
    fx.extra_config = "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) +
                      "\nreconnect:\n  halted_retry_ms: 1500\n";
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'small')");
    REQUIRE(fx.read(1).size() == 1);
    fx.exec("INSERT INTO {table} VALUES (2, repeat('x', 5000))");
    fx.exec("INSERT INTO {table} VALUES (3, 'after')");
    REQUIRE(fx.wait_for_log("halted: the event of"));
    // Tried again on the timer, and halted again: the limit is the producer's own.
    REQUIRE(fx.wait_for_log("trying the transaction ending at"));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const std::string log = fx.daemon_log();
    INFO(log);
    CHECK(fx.daemon_running());
    CHECK(occurrences(log, "halted: the event of") >= 2);
    CHECK(contains(log, "MSG_SIZE_TOO_LARGE") == false);  // refused before it was sent
    CHECK(contains(log, "producer's limit (kafka.properties message.max.bytes = 2000"));
    CHECK(contains(log, "raise kafka.properties message.max.bytes above"));
    CHECK(contains(log, "then restart the daemon"));

    const std::string ready = readyz_when_halted(port);
    INFO(ready);
    CHECK(ready.rfind("HTTP/1.1 503", 0) == 0);
    CHECK(contains(ready, "halted (producer_message_max_bytes): an event of"));
    CHECK(contains(ready, "on public." + fx.table() + " (key {\"id\":2})"));

    const std::string metrics = http_get(port, "/metrics");
    INFO(metrics);
    CHECK(contains(metrics, "\npgchangeset_halted 1\n"));
    CHECK(contains(metrics,
                   "pgchangeset_halted_event_bytes{reason=\"producer_message_max_bytes\","
                   "table=\"public." +
                       fx.table() + "\",topic=\"" + fx.topic() + "\",key=\"{\\\"id\\\":2}\"} "));

    const std::string status = run_status(fx.config_path());
    INFO(status);
    CHECK(contains(status, "halted: yes\n"));
    CHECK(contains(status, "halted_reason: producer_message_max_bytes\n"));
    CHECK(contains(status, "halted_table: public." + fx.table() + "\n"));
    CHECK(contains(status, "halted_key: {\"id\":2}\n"));
    CHECK(contains(status, "halted_event_bytes: "));

    // Nothing from the refused transaction on: not acknowledged, not in Kafka.
    CHECK(slot_not_past_halted(fx));
    CHECK(fx.read(2, std::chrono::seconds(3)).size() == 1);

    auto r = fx.stop_daemon();
    INFO(r.log);
    CHECK(r.exit_code == 0);
}

TEST_CASE(
    "an event over the topic's max.message.bytes halts the daemon, raising the limit on "
    "the broker unblocks it without a restart",
    "[kafka-only]") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    const int port = free_port();
    fx.extra_config = "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) +
                      "\nreconnect:\n  halted_retry_ms: 2000\n";
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'small')");
    REQUIRE(fx.read(1).size() == 1);  // the topic exists now
    set_topic_config(fx.topic(), "max.message.bytes", "4000");
    // Random hex: lz4 leaves it about as large as it is.
    fx.exec(
        "INSERT INTO {table} SELECT 2, string_agg(md5(random()::text), '') "
        "FROM generate_series(1, 1000)");
    fx.exec("INSERT INTO {table} VALUES (3, 'after')");
    REQUIRE(fx.wait_for_log("halted: the event of", std::chrono::seconds(60)));
    std::this_thread::sleep_for(std::chrono::seconds(3));
    {
        const std::string log = fx.daemon_log();
        INFO(log);
        CHECK(fx.daemon_running());
        CHECK(contains(log, "MSG_SIZE_TOO_LARGE"));
        CHECK(contains(log, "the next retry then passes without a restart"));
        const std::string ready = readyz_when_halted(port);
        INFO(ready);
        CHECK(ready.rfind("HTTP/1.1 503", 0) == 0);
        CHECK(contains(ready, "halted (broker_message_size)"));
        CHECK(contains(ready, "on public." + fx.table() + " (key {\"id\":2})"));
        CHECK(contains(http_get(port, "/metrics"), "\npgchangeset_halted 1\n"));
        CHECK(slot_not_past_halted(fx));
    }
    // The refused event is not in Kafka; the one after it may be (its transaction is produced
    // on each try, before the refusal comes back), but it is not acknowledged: it comes again.
    auto count_key = [](const std::vector<Record>& records, const std::string& key) {
        return std::count_if(records.begin(), records.end(),
                             [&](const Record& r) { return r.key.value_or("") == key; });
    };
    const auto halted = fx.read(100, std::chrono::seconds(3));
    CHECK(count_key(halted, "{\"id\":1}") == 1);
    CHECK(count_key(halted, "{\"id\":2}") == 0);

    set_topic_config(fx.topic(), "max.message.bytes", "1000000");
    REQUIRE(fx.wait_for_log("no longer halted", std::chrono::seconds(60)));
    CHECK(contains(http_get(port, "/metrics"), "\npgchangeset_halted 0\n"));
    CHECK(http_get(port, "/readyz").rfind("HTTP/1.1 200", 0) == 0);
    CHECK(fx.daemon_running());
    fx.exec("INSERT INTO {table} VALUES (4, 'goes on')");
    std::vector<Record> records;
    for (int i = 0; i < 12 && count_key(records, "{\"id\":4}") == 0; ++i) {
        records = fx.read(1000, std::chrono::seconds(5));
    }
    const std::string log = fx.daemon_log();
    INFO(log);
    CHECK(count_key(records, "{\"id\":2}") == 1);
    CHECK(count_key(records, "{\"id\":3}") >= 1);
    CHECK(count_key(records, "{\"id\":4}") == 1);
    for (const auto& r : records) {
        if (r.key.value_or("") == "{\"id\":2}") {
            CHECK(r.value.size() > 32000);
        }
    }
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("an event larger than the producer's whole queue halts the daemon instead of hanging") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    const int port = free_port();
    // message.max.bytes raised, as the daemon's advice for a large event says, but not the queue.
    fx.kafka_extra =
        "  properties:\n    message.max.bytes: 10000000\n    queue.buffering.max.kbytes: 1024\n";
    fx.extra_config = "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) +
                      "\nreconnect:\n  halted_retry_ms: 60000\n";
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, repeat('y', 2000000))");
    REQUIRE(fx.wait_for_log("halted: the event of", std::chrono::seconds(20)));
    const std::string log = fx.daemon_log();
    INFO(log);
    CHECK(contains(log,
                   "larger than the producer's whole queue (kafka.properties "
                   "queue.buffering.max.kbytes = 1024)"));
    CHECK(contains(log, "raise kafka.properties queue.buffering.max.kbytes above 1954 KiB"));
    const std::string ready = readyz_when_halted(port);
    INFO(ready);
    CHECK(contains(ready, "halted (producer_queue_size): an event of 2000"));
    CHECK(contains(ready, "on public." + fx.table() + " (key {\"id\":1})"));
    CHECK(slot_not_past_halted(fx));
    CHECK(fx.read(1, std::chrono::seconds(2)).empty());
    CHECK(fx.daemon_running());
    CHECK(fx.stop_daemon().exit_code == 0);
}
