// The Kafka sink against librdkafka's mock cluster, in process: the contract header on every
// record, tombstones, records to an explicit partition, and partition counts from the
// cluster's metadata (a topic it does not have included).
#include "core/sink/kafka_sink.hpp"

#include <librdkafka/rdkafka_mock.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/mock_cluster.hpp"

using namespace pgcs;
using pgcs::testing::MockCluster;

namespace {

struct Got {
    std::int32_t partition = 0;
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::map<std::string, std::string> headers;
};

// Every record of `topic`'s `partitions`, read from the beginning (waits for `count`).
std::vector<Got> read_back(const std::string& brokers, const std::string& topic, int partitions,
                           std::size_t count) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    REQUIRE(rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err) ==
            RD_KAFKA_CONF_OK);
    REQUIRE(rd_kafka_conf_set(conf, "group.id", "sink-test", err, sizeof err) == RD_KAFKA_CONF_OK);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    REQUIRE(rk != nullptr);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) {
        rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    std::vector<Got> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (m == nullptr) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            Got g;
            g.partition = m->partition;
            if (m->key != nullptr) {
                g.key = std::string(static_cast<const char*>(m->key), m->key_len);
            }
            if (m->payload != nullptr) {
                g.value = std::string(static_cast<const char*>(m->payload), m->len);
            }
            rd_kafka_headers_t* headers = nullptr;
            if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                const char* name = nullptr;
                const void* value = nullptr;
                std::size_t size = 0;
                for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                                        RD_KAFKA_RESP_ERR_NO_ERROR;
                     ++i) {
                    g.headers[name] = std::string(static_cast<const char*>(value), size);
                }
            }
            out.push_back(std::move(g));
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return out;
}

// A sink whose delivery reports are collected by ticket.
struct Sink {
    explicit Sink(const std::string& brokers,
                  std::vector<std::pair<std::string, std::string>> properties = {})
        : sink({brokers, std::move(properties), {}},
               [this](const sink::DeliveryReport& r) { delivered[r.ticket] = r.error; }) {}
    void flush() { REQUIRE(sink.flush(20000) == 0); }
    std::map<std::uint64_t, rd_kafka_resp_err_t> delivered;
    sink::KafkaSink sink;
};

}  // namespace

TEST_CASE("kafka sink: records carry no header, tombstones have no value") {
    MockCluster cluster;
    rd_kafka_mock_topic_create(cluster.get(), "events", 4, 1);
    Sink s(cluster.bootstraps());
    REQUIRE(s.sink.produce("events", true, R"({"id":1})", R"({"op":"deleted"})", 1) ==
            sink::ProduceResult::Queued);
    REQUIRE(s.sink.produce_tombstone("events", R"({"id":1})", 1) == sink::ProduceResult::Queued);
    REQUIRE(s.sink.produce("events", false, {}, R"({"op":"truncated"})", 2, 3) ==
            sink::ProduceResult::Queued);
    s.flush();
    CHECK(s.delivered == std::map<std::uint64_t, rd_kafka_resp_err_t>{
                             {1, RD_KAFKA_RESP_ERR_NO_ERROR}, {2, RD_KAFKA_RESP_ERR_NO_ERROR}});

    const auto got = read_back(cluster.bootstraps(), "events", 4, 3);
    REQUIRE(got.size() == 3);
    int tombstones = 0;
    for (const auto& g : got) {
        CHECK(g.headers.empty());  // the contract version is in the value (encoder)
        if (!g.value) {
            ++tombstones;
            CHECK(g.key == std::optional<std::string>(R"({"id":1})"));
        }
        if (g.value == std::optional<std::string>(R"({"op":"truncated"})")) {
            CHECK(g.partition == 3);  // the partition asked for
            CHECK_FALSE(g.key.has_value());
        }
    }
    CHECK(tombstones == 1);
    // The tombstone went to its event's partition: same key, same partitioner.
    std::map<std::string, std::int32_t> partition_of;
    for (const auto& g : got) {
        if (g.key) {
            partition_of.emplace(*g.key, g.partition);
            CHECK(partition_of[*g.key] == g.partition);
        }
    }
}

TEST_CASE("kafka sink: partition counts come from the cluster's metadata") {
    MockCluster cluster;
    rd_kafka_mock_topic_create(cluster.get(), "seven", 7, 1);
    Sink s(cluster.bootstraps());
    CHECK(s.sink.partition_count("seven", 5000).count == 7);
    CHECK(s.sink.partition_count("seven", 5000).count == 7);  // from the cache

    // A topic the cluster does not have: the metadata request creates it, as brokers with
    // auto.create.topics.enable do (the mock's default partition count).
    const sink::PartitionCount created = s.sink.partition_count("new.topic", 5000);
    CHECK(created.count > 0);
    CHECK_FALSE(created.topic_missing);

    // One the cluster says does not exist (auto-creation off): not known, and said so.
    rd_kafka_mock_topic_set_error(cluster.get(), "missing",
                                  RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    const sink::PartitionCount missing = s.sink.partition_count("missing", 5000);
    CHECK(missing.count == 0);
    CHECK(missing.topic_missing);
    CHECK_THAT(missing.why, Catch::Contains("UNKNOWN_TOPIC_OR_PART"));
}

TEST_CASE("kafka sink: how long to wait for a topic's partitions follows librdkafka's settings") {
    MockCluster cluster;
    Sink defaults(cluster.bootstraps());
    CHECK(defaults.sink.partition_wait_ms(true) == 30000);    // topic.metadata.propagation.max.ms
    CHECK(defaults.sink.partition_wait_ms(false) == 300000);  // message.timeout.ms
    Sink set(cluster.bootstraps(),
             {{"message.timeout.ms", "45000"}, {"topic.metadata.propagation.max.ms", "2000"}});
    CHECK(set.sink.partition_wait_ms(true) == 2000);
    CHECK(set.sink.partition_wait_ms(false) == 45000);
}

TEST_CASE("kafka sink: a record to a partition the topic does not have is refused") {
    MockCluster cluster;
    rd_kafka_mock_topic_create(cluster.get(), "two", 2, 1);
    Sink s(cluster.bootstraps());
    REQUIRE(s.sink.partition_count("two", 5000).count == 2);  // librdkafka knows the topic now
    CHECK_THROWS_WITH(s.sink.produce("two", false, {}, "{}", 1, 5),
                      Catch::Contains("partition 5") && Catch::Contains("UNKNOWN_PARTITION"));
}
