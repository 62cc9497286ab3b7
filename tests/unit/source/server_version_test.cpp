// Tests for the decision which PostgreSQL servers pgchangeset runs against.
#include <catch2/catch.hpp>

#include "core/source/server_version.hpp"

using pgcs::source::judge_server_version;
using pgcs::source::server_version_name;
using Kind = pgcs::source::ServerVersionVerdict::Kind;

TEST_CASE("version numbers are named as PostgreSQL names them", "[version]") {
    CHECK(server_version_name(170010) == "17.10");
    CHECK(server_version_name(140000) == "14.0");
    CHECK(server_version_name(130012) == "13.12");
    CHECK(server_version_name(90624) == "9.6.24");
}

TEST_CASE("PostgreSQL 14 to 18 are supported, with no message", "[version]") {
    for (int v : {140000, 140023, 150004, 160014, 170010, 180004, 189999}) {
        INFO(v);
        const auto verdict = judge_server_version(v);
        CHECK(verdict.kind == Kind::Supported);
        CHECK(verdict.message.empty());
    }
}

TEST_CASE("13 and older are refused, naming the version found and the ones supported",
          "[version]") {
    for (int v : {139999, 130012, 120000, 100023, 90624}) {
        INFO(v);
        const auto verdict = judge_server_version(v);
        CHECK(verdict.kind == Kind::TooOld);
        CHECK_THAT(verdict.message,
                   Catch::Contains("PostgreSQL " + server_version_name(v) + " is not supported"));
        CHECK_THAT(verdict.message, Catch::Contains("PostgreSQL 14 to 18"));
    }
}

TEST_CASE("a major newer than 18 runs, with a warning that it is untested", "[version]") {
    const auto verdict = judge_server_version(190001);
    CHECK(verdict.kind == Kind::Untested);
    CHECK_THAT(verdict.message, Catch::Contains("PostgreSQL 19.1"));
    CHECK_THAT(verdict.message, Catch::Contains("not been tested"));
}
