// mask_conninfo: what logs and errors show of a connection string hides the whole password,
// however it is quoted or escaped.
#include "core/source/pg_connection.hpp"

#include <catch2/catch.hpp>

using pgcs::source::mask_conninfo;

TEST_CASE("mask_conninfo hides every part of the password", "[source]") {
    CHECK(mask_conninfo("host=h password=secret port=5") == "host=h password=******** port=5");
    CHECK(mask_conninfo("password = 'sec ret' port=5") == "password = ******** port=5");
    CHECK(mask_conninfo("password='x\\' port=1' port=5") == "password=******** port=5");
    CHECK(mask_conninfo("password=x\\ port=1\\ y port=5") == "password=******** port=5");
    CHECK(mask_conninfo("port=5 password='unterminated secret") == "port=5 password=********");
    CHECK(mask_conninfo("PASSWORD=s") == "PASSWORD=********");
    CHECK(mask_conninfo("postgresql://u:x%20port%3D1@h/db") == "postgresql://u:********@h/db");
}
