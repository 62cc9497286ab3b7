// Tests for config/kafka_properties: every kafka.properties entry that would break per-key
// order or the delivery guarantee is refused with its reason, and librdkafka's own verdict
// (unknown property, bad value) is a configuration problem too.
#include "config/kafka_properties.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "config/config.hpp"

namespace {

using pgcs::config::detail::check_kafka_property;

// The message for name: value, or "" when it is accepted.
std::string problem(const std::string& name, const std::string& value) {
    return check_kafka_property(name, value).value_or("");
}

}  // namespace

TEST_CASE("partitioners that keep one key on one partition are accepted, others refused",
          "[config]") {
    for (const char* ok : {"murmur2_random", "murmur2", "consistent", "consistent_random", "fnv1a",
                           "fnv1a_random"}) {
        INFO(ok);
        CHECK(problem("partitioner", ok).empty());
        CHECK(problem("topic.partitioner", ok).empty());
    }
    CHECK_THAT(problem("partitioner", "random"),
               Catch::Contains("does not keep the events of one key on one partition"));
    CHECK_THAT(problem("topic.partitioner", "random"), Catch::Contains("one partition"));
    CHECK_THAT(problem("partitioner", "bogus"), Catch::Contains("one partition"));
}

TEST_CASE("properties that break the delivery guarantee are refused with the reason", "[config]") {
    CHECK_THAT(problem("enable.idempotence", "false"), Catch::Contains("must stay true"));
    CHECK_THAT(problem("acks", "1"), Catch::Contains("needs acks=all (or -1)"));
    CHECK_THAT(problem("topic.acks", "1"), Catch::Contains("needs acks=all"));
    CHECK_THAT(problem("request.required.acks", "0"),
               Catch::Contains("needs request.required.acks=all"));
    CHECK_THAT(problem("topic.request.required.acks", "1"), Catch::Contains("=all"));
    CHECK_THAT(problem("max.in.flight.requests.per.connection", "6"), Catch::Contains("above 5"));
    CHECK_THAT(problem("max.in.flight", "100"), Catch::Contains("above 5"));
    CHECK_THAT(problem("retries", "0"), Catch::Contains("must not be 0"));
    CHECK_THAT(problem("message.send.max.retries", "0"), Catch::Contains("must not be 0"));
    CHECK_THAT(problem("transactional.id", "pgcs"),
               Catch::Contains("sets it itself under kafka.exactly_once"));
    CHECK_THAT(problem("queuing.strategy", "lifo"), Catch::Contains("break their order"));
    CHECK_THAT(problem("delivery.report.only.error", "true"), Catch::Contains("must stay false"));
    CHECK_THAT(problem("bootstrap.servers", "x:9092"), Catch::Contains("kafka.brokers"));
}

TEST_CASE("values that keep the guarantee are accepted", "[config]") {
    CHECK(problem("enable.idempotence", "true").empty());
    CHECK(problem("acks", "all").empty());
    CHECK(problem("acks", "-1").empty());
    CHECK(problem("topic.acks", "-1").empty());
    CHECK(problem("max.in.flight.requests.per.connection", "5").empty());
    CHECK(problem("max.in.flight", "1").empty());
    CHECK(problem("retries", "10").empty());
    CHECK(problem("queuing.strategy", "fifo").empty());
    CHECK(problem("linger.ms", "20").empty());
    CHECK(problem("compression.type", "zstd").empty());
    CHECK(problem("topic.metadata.refresh.interval.ms", "1000").empty());
    CHECK(problem("sasl.password", "Hunter2 Secret").empty());
}

TEST_CASE("librdkafka's own verdict: unknown property, bad value, out of range", "[config]") {
    CHECK_THAT(problem("no.such.property", "1"), Catch::Contains("has no such property"));
    CHECK_THAT(problem("linger.ms", "soon"), Catch::Contains("librdkafka refuses this value"));
    CHECK_THAT(problem("retries", "-1"), Catch::Contains("outside allowed range"));
    CHECK_THAT(problem("compression.type", "bogus"), Catch::Contains("compression"));
}

TEST_CASE("a refused property is a problem naming the line and the key", "[config]") {
    const std::string yaml =
        "postgres:\n  conninfo: \"host=db dbname=app\"\nkafka:\n  brokers: \"k1:9092\"\n"
        "  topic_prefix: app\n  properties:\n    partitioner: random\n    no.such: 1\n";
    try {
        (void)pgcs::config::load_config_string(
            yaml, "test.yaml", [](const std::string&) { return std::optional<std::string>(); });
        FAIL("the configuration was accepted");
    } catch (const pgcs::config::ConfigError& e) {
        REQUIRE(e.problems().size() == 2);
        CHECK(e.problems()[0].line == 7);
        CHECK(e.problems()[0].key == "kafka.properties.partitioner");
        CHECK(e.problems()[1].line == 8);
        CHECK(e.problems()[1].key == "kafka.properties.no.such");
        CHECK_THAT(e.problems()[1].message, Catch::Contains("no such property"));
    }
}
