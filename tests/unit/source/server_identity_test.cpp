// compare_identity: the same server, a promoted standby of it, or another cluster.
#include "core/source/server_identity.hpp"

#include <catch2/catch.hpp>

#include "core/source/stream_failure.hpp"

using pgcs::source::compare_identity;
using pgcs::source::IdentityChange;
using pgcs::source::ServerIdentity;

TEST_CASE("server identity: the same system on the same timeline is the same server") {
    CHECK(compare_identity({"7300", 1, 0}, {"7300", 1, 0x100}) == IdentityChange::Same);
}

TEST_CASE("server identity: a new timeline of the same system is a promotion") {
    CHECK(compare_identity({"7300", 1, 0}, {"7300", 2, 0}) == IdentityChange::Promoted);
}

TEST_CASE("server identity: another system identifier is another cluster, never streamed") {
    CHECK_THROWS_AS(compare_identity({"7300", 1, 0}, {"9100", 1, 0}), pgcs::source::StreamFailure);
    CHECK_THROWS_WITH(compare_identity({"7300", 1, 0}, {"9100", 1, 0}),
                      Catch::Contains("another PostgreSQL cluster (system identifier 9100, was "
                                      "7300)"));
}
