// kafka.exactly_once and the keys that apply to it: defaults, ranges, keys without it, and a
// progress topic that would be a table's or the messages topic.
#include <catch2/catch.hpp>
#include <string>

#include "config/config.hpp"

using pgcs::config::Config;
using pgcs::config::ConfigError;
using pgcs::config::load_config_string;

namespace {

Config load(const std::string& kafka_extra) {
    return load_config_string(
        "postgres:\n  conninfo: \"host=db dbname=app\"\nkafka:\n  brokers: \"k1:9092\"\n"
        "  topic_prefix: app\n" +
            kafka_extra,
        "test.yaml", [](const std::string&) { return std::nullopt; });
}

std::string problem_of(const std::string& kafka_extra) {
    try {
        load(kafka_extra);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("exactly_once: off by default, and on with its batch bounds and progress topic") {
    const Config d = load("");
    CHECK_FALSE(d.kafka.exactly_once);
    CHECK(d.kafka.progress_topic.empty());
    CHECK(d.kafka.transaction_ms == 20);
    CHECK(d.kafka.transaction_max_events == 100000);

    const Config c = load(
        "  exactly_once: true\n  progress_topic: app.done\n  transaction_ms: 250\n"
        "  transaction_max_events: 5000\n");
    CHECK(c.kafka.exactly_once);
    CHECK(c.kafka.progress_topic == "app.done");
    CHECK(c.kafka.transaction_ms == 250);
    CHECK(c.kafka.transaction_max_events == 5000);
}

TEST_CASE("exactly_once: its keys without it, bad values and colliding topics are refused") {
    CHECK_THAT(problem_of("  transaction_ms: 50\n"),
               Catch::Contains("test.yaml:6: kafka.transaction_ms: applies to "
                               "kafka.exactly_once: true only"));
    CHECK_THAT(problem_of("  exactly_once: yes please\n"),
               Catch::Contains("kafka.exactly_once: expected true or false"));
    CHECK_THAT(problem_of("  exactly_once: true\n  transaction_ms: 0\n"),
               Catch::Contains("kafka.transaction_ms: must be at least 1, got 0"));
    CHECK_THAT(problem_of("  exactly_once: true\n  transaction_max_events: many\n"),
               Catch::Contains("'many' is not a whole number"));
    CHECK_THAT(problem_of("  exactly_once: true\n  progress_topic: app.public.users\n"),
               Catch::Contains("kafka.progress_topic: 'app.public.users' is the topic of table "
                               "\"public\".\"users\""));
    CHECK_THAT(problem_of("  exactly_once: true\n  progress_topic: app.messages\n"),
               Catch::Contains("is also the topic of logical decoding messages"));
    CHECK_THAT(problem_of("  exactly_once: true\n  properties:\n    transactional.id: x\n"),
               Catch::Contains("sets it itself under kafka.exactly_once"));
}
