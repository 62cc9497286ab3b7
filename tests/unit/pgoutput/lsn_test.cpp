#include "core/pgoutput/lsn.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <random>

using pgcs::format_lsn;
using pgcs::parse_lsn;

TEST_CASE("LSNs print as PostgreSQL prints them") {
    CHECK(format_lsn(0) == "0/0");
    CHECK(format_lsn(0x16B3748) == "0/16B3748");
    CHECK(format_lsn(0x1600000000ULL | 0xB374D848ULL) == "16/B374D848");
    CHECK(format_lsn(~0ULL) == "FFFFFFFF/FFFFFFFF");
    CHECK(pgcs::lsn_text(0x1600000000ULL | 0xB374D848ULL).view() == "16/B374D848");
}

TEST_CASE("LSN text parses back, in either case, and nothing else does") {
    CHECK(parse_lsn("0/0") == 0u);
    CHECK(parse_lsn("16/B374D848") == (0x1600000000ULL | 0xB374D848ULL));
    CHECK(parse_lsn("16/b374d848") == (0x1600000000ULL | 0xB374D848ULL));
    CHECK(parse_lsn("FFFFFFFF/FFFFFFFF") == ~0ULL);
    for (const char* bad : {"", "/", "0/", "/0", "16", "16/B374D848 ", "1/2/3", "G/0",
                            "123456789/0", "0/123456789", "-1/0", "0x1/0"}) {
        INFO(bad);
        CHECK_FALSE(parse_lsn(bad).has_value());
    }
}

TEST_CASE("LSN text matches printf's %X/%X and round-trips over random values") {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 20000; ++i) {
        const std::uint64_t lsn = i < 10 ? static_cast<std::uint64_t>(i) << (i * 6) : rng();
        char expected[40];
        std::snprintf(expected, sizeof expected, "%X/%X", static_cast<unsigned>(lsn >> 32),
                      static_cast<unsigned>(lsn & 0xFFFFFFFFu));
        REQUIRE(format_lsn(lsn) == expected);
        REQUIRE(parse_lsn(expected) == lsn);
    }
}
