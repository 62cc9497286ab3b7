// The start-up checks that need no server: what postgres.* asks of a server's version and role
// (primary or standby), and the publication a standby must already have.
#include "core/source/server_checks.hpp"

#include <catch2/catch.hpp>

#include "core/source/stream_failure.hpp"

using pgcs::source::check_server_settings;
using pgcs::source::check_standby_publication;
using pgcs::source::ConfigFailure;
using pgcs::source::SourceSettings;
using pgcs::source::StreamFailure;
using pgcs::source::TableName;
using pgcs::source::UnsupportedServer;

TEST_CASE("server checks: a supported primary with the defaults passes") {
    for (int v : {140000, 150004, 160014, 170010, 180004}) {
        INFO(v);
        CHECK_NOTHROW(check_server_settings(v, false, SourceSettings{}));
    }
}

TEST_CASE("server checks: 13 and older are refused as unsupported") {
    CHECK_THROWS_AS(check_server_settings(130012, false, SourceSettings{}), UnsupportedServer);
}

TEST_CASE("server checks: postgres.failover needs 17 and a primary (a configuration error)") {
    SourceSettings s;
    s.failover = true;
    CHECK_THROWS_WITH(check_server_settings(160014, false, s),
                      Catch::Contains("postgres.failover needs PostgreSQL 17 or later") &&
                          Catch::Contains("160014"));
    CHECK_THROWS_AS(check_server_settings(160014, false, s), ConfigFailure);
    CHECK_THROWS_WITH(check_server_settings(170010, true, s), Catch::Contains("reaches a standby"));
    CHECK_NOTHROW(check_server_settings(170010, false, s));
}

TEST_CASE("server checks: decoding on a standby needs 16") {
    CHECK_THROWS_WITH(check_server_settings(150004, true, SourceSettings{}),
                      Catch::Contains("decodes only on a primary"));
    CHECK_NOTHROW(check_server_settings(160014, true, SourceSettings{}));
}

TEST_CASE("server checks: a standby's publication must exist with every table") {
    const TableName a{"public", "a", "\"public\".\"a\""};
    const TableName b{"public", "b", "\"public\".\"b\""};
    CHECK_THROWS_WITH(check_standby_publication("pub", false, {}, {a}),
                      Catch::Contains("publication 'pub' does not exist") &&
                          Catch::Contains("create it on the primary"));
    CHECK_THROWS_WITH(
        check_standby_publication("pub", true, {a}, {a, b}),
        Catch::Contains("lacks \"public\".\"b\"") && Catch::Contains("ALTER PUBLICATION"));
    CHECK_NOTHROW(check_standby_publication("pub", true, {b, a}, {a, b}));
    CHECK_THROWS_AS(check_standby_publication("pub", true, {}, {a}), StreamFailure);
}
