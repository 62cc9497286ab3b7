// Tests for config/conninfo_rules: postgres.conninfo is checked with libpq's parser without
// connecting, and no message repeats any part of a password.
#include "config/conninfo_rules.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "config/config.hpp"

namespace {

using pgcs::config::detail::check_conninfo;

std::string problem(const std::string& conninfo) {
    return check_conninfo(conninfo).value_or("");
}

void no_secret(const std::string& message) {
    INFO(message);
    CHECK(message.find("Hunter2") == std::string::npos);
    CHECK(message.find("Secret") == std::string::npos);
    CHECK(message.find("ecre") == std::string::npos);
}

}  // namespace

TEST_CASE("valid connection strings and URIs are accepted", "[config]") {
    CHECK(problem("host=db dbname=app user=cdc").empty());
    CHECK(problem("host=db password='Hunter2 Secret' sslmode=verify-full").empty());
    CHECK(problem("  host = db   port=5432 ").empty());
    CHECK(problem("postgresql://cdc:Hunter2@db:5432/app?sslmode=require").empty());
    CHECK(problem("host=a,b target_session_attrs=read-write gssencmode=disable").empty());
    CHECK(problem("dbname=app channel_binding=require").empty());
}

TEST_CASE("an unquoted password with a space: the position, not the password", "[config]") {
    const std::string message = problem("host=db password=Hunter2 Secret dbname=app");
    CHECK_THAT(message, Catch::Contains("setting 3 (at character 26)"));
    CHECK_THAT(message, Catch::Contains("right after the password's value"));
    CHECK_THAT(message, Catch::Contains("password='two words'"));
    no_secret(message);
    const std::string unknown = problem("host=db password=Hunter2 Secret=x");
    CHECK_THAT(unknown, Catch::Contains("is not a libpq keyword"));
    no_secret(unknown);
}

TEST_CASE("an unknown keyword is named", "[config]") {
    const std::string message = problem("host=db passwd=Hunter2Secret");
    CHECK_THAT(message, Catch::Contains("'passwd' is not a libpq connection keyword"));
    no_secret(message);
}

TEST_CASE("an unclosed quote is reported without the password", "[config]") {
    const std::string message = problem("host=db password='Hunter2 Secret");
    CHECK_THAT(message, Catch::Contains("never closed"));
    no_secret(message);
}

TEST_CASE("a URI libpq cannot parse is reported without the password", "[config]") {
    const std::string message = problem("postgresql://cdc:Hunter2Secret@[db/app");
    CHECK_THAT(message, Catch::Contains("not a connection URI libpq can parse"));
    no_secret(message);
    CHECK_THAT(problem("postgresql://cdc:Hunter2Secret@db/app?passwd=x"), Catch::Contains("URI"));
}

TEST_CASE("values libpq checks only when connecting are checked here", "[config]") {
    CHECK_THAT(problem("host=db sslmode=bogus"),
               Catch::Contains("sslmode='bogus' is not one of libpq's values: disable, allow"));
    CHECK_THAT(problem("host=db gssencmode=maybe"), Catch::Contains("gssencmode='maybe'"));
    CHECK_THAT(problem("host=db channel_binding=yes"), Catch::Contains("channel_binding"));
    CHECK_THAT(problem("host=db target_session_attrs=rw"), Catch::Contains("target_session_attrs"));
    CHECK_THAT(problem("postgresql://db/app?sslmode=bogus"), Catch::Contains("sslmode='bogus'"));
}

TEST_CASE("replication= is the daemon's to set", "[config]") {
    CHECK_THAT(problem("host=db replication=database"), Catch::Contains("remove it"));
    CHECK_THAT(problem("host=db replication=true"), Catch::Contains("sets replication"));
    CHECK_THAT(problem("postgresql://db/app?replication=database"),
               Catch::Contains("sets replication"));
}

TEST_CASE("a bad conninfo is a problem at its line, without the secret", "[config]") {
    const std::string yaml =
        "postgres:\n  conninfo: \"host=db password=Hunter2 Secret\"\nkafka:\n"
        "  brokers: \"k1:9092\"\n  topic_prefix: app\n";
    try {
        (void)pgcs::config::load_config_string(
            yaml, "test.yaml", [](const std::string&) { return std::optional<std::string>(); });
        FAIL("the configuration was accepted");
    } catch (const pgcs::config::ConfigError& e) {
        REQUIRE(e.problems().size() == 1);
        CHECK(e.problems()[0].line == 2);
        CHECK(e.problems()[0].key == "postgres.conninfo");
        no_secret(e.what());
    }
}
