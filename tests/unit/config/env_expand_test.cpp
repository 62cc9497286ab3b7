// ${VAR} in postgres.conninfo: whatever a variable holds, libpq reads it as the one value it
// stands in (checked with libpq's own parser), and never as further parameters.
#include "config/env_expand.hpp"

#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>

namespace {

using pgcs::config::EnvLookup;
using pgcs::config::detail::expand_conninfo;

EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        return it == vars.end() ? std::nullopt : std::optional(it->second);
    };
}

// The parameters libpq reads from a connection string (only those that are set).
std::map<std::string, std::string> libpq_reads(const std::string& conninfo) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
    if (opts == nullptr) {
        std::string message = err != nullptr ? err : "out of memory";
        PQfreemem(err);
        FAIL("libpq refuses '" << conninfo << "': " << message);
    }
    std::map<std::string, std::string> out;
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
        if (o->val != nullptr) {
            out[o->keyword] = o->val;
        }
    }
    PQconninfoFree(opts);
    return out;
}

std::string expanded(const std::string& text, const EnvLookup& env) {
    auto result = expand_conninfo(text, env);
    REQUIRE(result.errors.empty());
    return result.value;
}

}  // namespace

TEST_CASE("a variable in a conninfo value stays that one value", "[config][env]") {
    const std::string hostile = "x port=1 host='evil' \\ dbname=other'";
    EnvLookup env =
        env_of({{"PW", hostile}, {"HOST", "db.internal"}, {"EMPTY", ""}, {"SUFFIX", "prod db"}});
    SECTION("unquoted") {
        auto params = libpq_reads(expanded("host=${HOST} port=5432 password=${PW} user=u", env));
        CHECK(params["password"] == hostile);
        CHECK(params["port"] == "5432");
        CHECK(params["host"] == "db.internal");
        CHECK(params["user"] == "u");
        CHECK(params.count("dbname") == 0);
    }
    SECTION("quoted by the user") {
        auto params = libpq_reads(expanded("password='${PW}' port=5432", env));
        CHECK(params["password"] == hostile);
        CHECK(params["port"] == "5432");
    }
    SECTION("part of a value") {
        auto params =
            libpq_reads(expanded("dbname=app_${SUFFIX}_x application_name='a ${SUFFIX}'", env));
        CHECK(params["dbname"] == "app_prod db_x");
        CHECK(params["application_name"] == "a prod db");
    }
    SECTION("an empty variable is an empty value, not the next parameter") {
        auto params = libpq_reads(expanded("password=${EMPTY} port=5432", env));
        CHECK(params["password"].empty());
        CHECK(params["port"] == "5432");
        CHECK(libpq_reads(expanded("port=5432 password=${EMPTY}", env))["password"].empty());
        CHECK(libpq_reads(expanded("password=${EMPTY}${HOST} port=1", env))["password"] ==
              "db.internal");
        CHECK(libpq_reads(expanded("password=${EMPTY}ab port=1", env))["password"] == "ab");
    }
    SECTION("text as written keeps its meaning, escapes included") {
        CHECK(expanded("host=${HOST} password='p\\'q'", env) ==
              "host=db.internal password='p\\'q'");
        auto params = libpq_reads(expanded("password=a\\${PW} port=2", env));
        CHECK(params["password"] == "a" + hostile);
        CHECK(params["port"] == "2");
    }
    SECTION("where a keyword goes, the variable is connection-string text") {
        auto params = libpq_reads(
            expanded("${PGCS_CONNINFO} user=u", env_of({{"PGCS_CONNINFO", "host=h port=6000"}})));
        CHECK(params["host"] == "h");
        CHECK(params["port"] == "6000");
        CHECK(params["user"] == "u");
    }
    SECTION("the URI form percent-encodes") {
        auto params = libpq_reads(expanded("postgresql://cdc:${PW}@db.internal:5432/app", env));
        CHECK(params["password"] == hostile);
        CHECK(params["port"] == "5432");
        CHECK(params["host"] == "db.internal");
        CHECK(params["dbname"] == "app");
    }
}
