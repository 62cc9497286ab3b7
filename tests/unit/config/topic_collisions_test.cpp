// A configuration two of whose topics would be one is refused.
#include <catch2/catch.hpp>
#include <string>

#include "config/config.hpp"

using pgcs::config::ConfigError;
using pgcs::config::load_config_string;

namespace {

std::string problem_of(const std::string& yaml) {
    try {
        load_config_string(yaml, "test.yaml", [](const std::string&) { return std::nullopt; });
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

std::string config_with(const std::string& postgres_extra, const std::string& kafka_extra) {
    return "postgres:\n  conninfo: \"host=db dbname=app\"\n" + postgres_extra +
           "kafka:\n  brokers: \"k1:9092\"\n  topic_prefix: app\n" + kafka_extra;
}

}  // namespace

TEST_CASE("topic collisions: kafka.messages_topic that is a table's topic is refused") {
    const std::string e = problem_of(
        config_with("  tables: [public.users]\n", "  messages_topic: app.public.users\n"));
    CHECK_THAT(e, Catch::Contains("test.yaml:7: kafka.messages_topic: 'app.public.users' is the "
                                  "topic of table \"public\".\"users\""));
    CHECK_THAT(e, Catch::Contains("choose another name"));
    // Also when the table is not listed (a publication of every table may hold it).
    CHECK_THAT(problem_of(config_with("", "  messages_topic: app.my-2eschema.t\n")),
               Catch::Contains("is the topic of table \"my.schema\".\"t\""));
}

TEST_CASE("topic collisions: a messages topic no table can have is accepted") {
    CHECK(problem_of(config_with("  tables: [public.users]\n", "  messages_topic: app.msgs\n"))
              .empty());
    CHECK(problem_of(config_with("", "  messages_topic: other.public.users\n")).empty());
    CHECK(problem_of(config_with("", "  messages_topic: app.public.-41\n")).empty());
    CHECK(problem_of(config_with("  tables: ['public.\"A.B\"', '\"public.A\".B']\n", "")).empty());
}
