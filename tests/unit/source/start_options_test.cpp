// Tests for the pgoutput options chosen per server version.
#include <catch2/catch.hpp>

#include "core/source/replication_stream.hpp"

using pgcs::source::start_options_for;

TEST_CASE("protocol v1 up to PostgreSQL 13, v2 with streaming from 14", "[start]") {
    const auto v13 = start_options_for(130012, "s", "p", true, false, false);
    CHECK(v13.proto_version == 1);
    CHECK_FALSE(v13.streaming);
    const auto v10 = start_options_for(100023, "s", "p", true, false, true);
    CHECK(v10.proto_version == 1);
    const auto v14 = start_options_for(140000, "s", "p", true, true, true);
    CHECK(v14.proto_version == 2);
    CHECK(v14.streaming);
    CHECK(v14.binary);
    CHECK(v14.messages);
    CHECK(v14.slot == "s");
    CHECK(v14.publication == "p");
    const auto off = start_options_for(150004, "s", "p", false, false, false);
    CHECK(off.proto_version == 1);
    CHECK_FALSE(off.streaming);
    CHECK_FALSE(start_options_for(130000, "s", "p", true, true, false).binary);
}
