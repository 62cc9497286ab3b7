// Tests for binary send formats -> PostgreSQL's text form. The integration suite compares every
// type with the server's own text; these pin the formats' corners without a server.
#include "core/encode/binary_text.hpp"

#include <catch2/catch.hpp>
#include <initializer_list>
#include <vector>

#include "core/encode/value_writer.hpp"

namespace {

using pgcs::changeset::TypeRegistry;
using pgcs::encode::binary_to_text;
using pgcs::encode::ValueFormatError;

struct Bytes {
    std::vector<std::byte> b;
    Bytes& be(std::uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i) {
            b.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
        }
        return *this;
    }
    Bytes& raw(std::string_view s) {
        for (char c : s) {
            b.push_back(static_cast<std::byte>(c));
        }
        return *this;
    }
};

std::string text_of(std::uint32_t oid, const Bytes& bytes) {
    static const TypeRegistry registry;
    const auto* type = registry.find(oid);
    REQUIRE(type != nullptr);
    std::string out;
    const bool decoded = binary_to_text(registry, *type, bytes.b, out);  // may throw
    REQUIRE(decoded);
    return out;
}

std::uint64_t bits(double d) {
    std::uint64_t u = 0;
    std::memcpy(&u, &d, 8);
    return u;
}

// numeric_send: ndigits, weight, sign, dscale, then base-10000 digits.
Bytes numeric(int weight, std::uint16_t sign, int dscale, std::initializer_list<int> digits) {
    Bytes b;
    b.be(digits.size(), 2).be(static_cast<std::uint16_t>(weight), 2).be(sign, 2).be(dscale, 2);
    for (int d : digits) {
        b.be(static_cast<std::uint64_t>(d), 2);
    }
    return b;
}

}  // namespace

TEST_CASE("integers, oid and bool", "[binary]") {
    CHECK(text_of(21, Bytes().be(0x8000, 2)) == "-32768");
    CHECK(text_of(23, Bytes().be(0xffffffff, 4)) == "-1");
    CHECK(text_of(20, Bytes().be(9007199254740993ULL, 8)) == "9007199254740993");
    CHECK(text_of(26, Bytes().be(4294967295ULL, 4)) == "4294967295");
    CHECK(text_of(16, Bytes().be(1, 1)) == "t");
}

TEST_CASE("floats in PostgreSQL's shortest form", "[binary]") {
    CHECK(text_of(701, Bytes().be(bits(1e15), 8)) == "1e+15");
    CHECK(text_of(701, Bytes().be(bits(1e14), 8)) == "100000000000000");
    CHECK(text_of(701, Bytes().be(bits(0.0001), 8)) == "0.0001");
    CHECK(text_of(701, Bytes().be(bits(0.00001), 8)) == "1e-05");
    CHECK(text_of(701, Bytes().be(bits(-0.0), 8)) == "-0");
    CHECK(text_of(701, Bytes().be(bits(1.234e-300), 8)) == "1.234e-300");
    CHECK(text_of(701, Bytes().be(0x7ff8000000000000ULL, 8)) == "NaN");
    CHECK(text_of(701, Bytes().be(0xfff0000000000000ULL, 8)) == "-Infinity");
    float f = 1234567.0F;
    std::uint32_t fb = 0;
    std::memcpy(&fb, &f, 4);
    CHECK(text_of(700, Bytes().be(fb, 4)) == "1.234567e+06");
    f = 123456.0F;
    std::memcpy(&fb, &f, 4);
    CHECK(text_of(700, Bytes().be(fb, 4)) == "123456");
}

TEST_CASE("numeric keeps its scale and every digit", "[binary]") {
    CHECK(text_of(1700, numeric(0, 0, 4, {1234, 5678})) == "1234.5678");
    CHECK(text_of(1700, numeric(1, 0x4000, 3, {1, 0})) == "-10000.000");
    CHECK(text_of(1700, numeric(-2, 0, 6, {100})) == "0.000001");
    CHECK(text_of(1700, numeric(2, 0, 0, {1})) == "100000000");
    CHECK(text_of(1700, numeric(0, 0, 0, {})) == "0");
    CHECK(text_of(1700, numeric(0, 0xC000, 0, {})) == "NaN");
    CHECK(text_of(1700, numeric(0, 0xF000, 0, {})) == "-Infinity");
    CHECK_THROWS_AS(text_of(1700, numeric(0, 0x1234, 0, {})), ValueFormatError);
}

TEST_CASE("dates, times, timestamps and intervals", "[binary]") {
    CHECK(text_of(1082, Bytes().be(0, 4)) == "2000-01-01");
    CHECK(text_of(1082, Bytes().be(0x7fffffff, 4)) == "infinity");
    CHECK(text_of(1082, Bytes().be(9823, 4)) == "2026-11-23");
    // 1 BC is year 0 in the proleptic calendar: 2000 years and 485 leap days before 2000.
    CHECK(text_of(1082, Bytes().be(static_cast<std::uint32_t>(-730485), 4)) == "0001-01-01 BC");
    CHECK(text_of(1083, Bytes().be(86400000000ULL, 8)) == "24:00:00");
    CHECK(text_of(1083, Bytes().be(3723000001ULL, 8)) == "01:02:03.000001");
    // timetz: the zone is seconds west of Greenwich.
    CHECK(text_of(1266, Bytes().be(0, 8).be(static_cast<std::uint32_t>(-19815), 4)) ==
          "00:00:00+05:30:15");
    CHECK(text_of(1266, Bytes().be(0, 8).be(12600, 4)) == "00:00:00-03:30");
    CHECK(text_of(1114, Bytes().be(500000, 8)) == "2000-01-01 00:00:00.5");
    CHECK(text_of(1184, Bytes().be(0x7fffffffffffffffULL, 8)) == "infinity");
    CHECK(text_of(1184, Bytes().be(static_cast<std::uint64_t>(-1), 8)) ==
          "1999-12-31 23:59:59.999999+00");
    // 0001-01-01 BC: 730485 days before 2000-01-01... checked via the year only.
    CHECK(text_of(1114, Bytes().be(static_cast<std::uint64_t>(-63113904000000000LL), 8))
              .ends_with(" BC"));
    // interval: time µs, days, months; each part keeps its sign.
    CHECK(text_of(1186, Bytes().be(0, 8).be(0, 4).be(0, 4)) == "PT0S");
    CHECK(text_of(1186, Bytes()
                            .be(static_cast<std::uint64_t>(-14706500000LL), 8)
                            .be(3, 4)
                            .be(static_cast<std::uint32_t>(-14), 4)) == "P-1Y-2M3DT-4H-5M-6.5S");
}

TEST_CASE("bytea, uuid, jsonb, text", "[binary]") {
    CHECK(text_of(17, Bytes().be(0x00ff10, 3)) == "\\x00ff10");
    CHECK(text_of(2950, Bytes().be(0xa0eebc999c0b4ef8ULL, 8).be(0xbb6d6bb9bd380a11ULL, 8)) ==
          "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    CHECK(text_of(3802, Bytes().be(1, 1).raw("{\"a\": 1}")) == "{\"a\": 1}");
    CHECK_THROWS_AS(text_of(3802, Bytes().be(2, 1).raw("{}")), ValueFormatError);
    CHECK(text_of(25, Bytes().raw("h\xc3\xa9")) == "h\xc3\xa9");
}

TEST_CASE("arrays: nesting, NULLs, quoting and lower bounds", "[binary]") {
    // int4[][]: 2 dims of 2, has nulls, element int4.
    Bytes a;
    a.be(2, 4).be(1, 4).be(23, 4).be(2, 4).be(1, 4).be(2, 4).be(1, 4);
    a.be(4, 4).be(1, 4).be(0xffffffff, 4).be(4, 4).be(3, 4).be(4, 4).be(4, 4);
    CHECK(text_of(1007, a) == "{{1,NULL},{3,4}}");
    Bytes t;  // text[] with bound 0 and elements that need quotes
    t.be(1, 4).be(0, 4).be(25, 4).be(4, 4).be(0, 4);
    t.be(0, 4).be(4, 4).raw("NULL").be(3, 4).raw("a,b").be(2, 4).raw("q\"");
    CHECK(text_of(1009, t) == "[0:3]={\"\",\"NULL\",\"a,b\",\"q\\\"\"}");
    CHECK(text_of(1007, Bytes().be(0, 4).be(0, 4).be(23, 4)) == "{}");
    CHECK_THROWS_AS(text_of(1007, Bytes().be(1, 4).be(0, 4).be(23, 4).be(1000000, 4).be(1, 4)),
                    ValueFormatError);
}

TEST_CASE("types without a decoder here are left to the server", "[binary]") {
    const TypeRegistry registry;
    std::string out = "kept";
    CHECK_FALSE(binary_to_text(registry, *registry.find(869), Bytes().be(0x02200000, 4).b, out));
    CHECK(out == "kept");  // inet: untouched
}
