// write_text_value: PostgreSQL's text output -> the JSON of the contract's type table. Unless a
// comment says otherwise, every input is what a PostgreSQL 15.20 server printed under the
// replication session settings (DateStyle=ISO, TimeZone=UTC, IntervalStyle=iso_8601,
// extra_float_digits=3, bytea_output=hex), pasted from psql.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <initializer_list>
#include <new>
#include <string>
#include <string_view>

#include "core/encode/value_writer.hpp"

using pgcs::changeset::CatalogType;
using pgcs::changeset::Oid;
using pgcs::changeset::TypeInfo;
using pgcs::changeset::TypeRegistry;
using pgcs::encode::JsonWriter;
using pgcs::encode::ValueFormatError;
using pgcs::encode::write_text_value;

// Counts heap allocations, to hold the hot path to "no allocation for scalar values". Under
// AddressSanitizer through its allocation hooks (which see malloc as well as operator new),
// otherwise by replacing operator new.
namespace {
std::atomic<long> g_allocations{0};
std::string* volatile g_probe = nullptr;  // volatile: the probe allocation cannot be elided
}  // namespace

#if defined(__SANITIZE_ADDRESS__)
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                             std::size_t),
                                                         void (*free_hook)(const volatile void*));
namespace {
const int g_hooks_installed = __sanitizer_install_malloc_and_free_hooks(
    [](const volatile void*, std::size_t) { g_allocations.fetch_add(1); },
    [](const volatile void*) {});
}  // namespace
#else
void* operator new(std::size_t size) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
        return p;
    }
    throw std::bad_alloc();
}
// GCC 12 at -O1 takes these for a free() of memory from new (-Wmismatched-new-delete), but
// this operator new is the one above, which allocates with malloc().
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
#pragma GCC diagnostic pop
#endif

namespace {

// Domains, enums, arrays and extension types as a PostgreSQL 15 catalog reports them.
TypeRegistry make_registry() {
    TypeRegistry types;
    const auto add = [&](Oid oid, const char* name, char typtype, Oid base, Oid element,
                         char category, char delimiter = ',') {
        CatalogType t;
        t.oid = oid;
        t.name = name;
        t.typtype = typtype;
        t.base_oid = base;
        t.element_oid = element;
        t.category = category;
        t.delimiter = delimiter;
        types.add(t);
    };
    add(16623, "posint", 'd', 23, 0, 'N');
    add(16622, "_posint", 'b', 0, 16623, 'A');
    add(16626, "mood", 'e', 0, 0, 'E');
    add(16625, "_mood", 'b', 0, 16626, 'A');
    add(16634, "intarr", 'd', 1007, 0, 'A');
    add(16633, "_intarr", 'b', 0, 16634, 'A');
    add(16636, "boxd", 'd', 603, 0, 'G', ';');
    add(16635, "_boxd", 'b', 0, 16636, 'A', ';');
    add(16640, "stamp", 'd', 1184, 0, 'D');
    add(16641, "_stamp", 'b', 0, 16640, 'A');
    add(16642, "doc", 'd', 3802, 0, 'U');
    add(16643, "_doc", 'b', 0, 16642, 'A');
    add(16644, "money2", 'd', 1700, 0, 'N');
    add(16390, "hstore", 'b', 0, 0, 'U');
    add(16395, "_hstore", 'b', 0, 16390, 'A');
    add(16518, "citext", 'b', 0, 0, 'S');
    add(16523, "_citext", 'b', 0, 16518, 'A');
    return types;
}

const TypeRegistry& registry() {
    static const TypeRegistry types = make_registry();
    return types;
}

const TypeInfo& type_of(Oid oid) {
    const TypeInfo* type = registry().find(oid);
    REQUIRE(type != nullptr);
    return *type;
}

// The JSON written for one value, checked to be valid JSON inside an array (as in a row).
std::string json(Oid oid, std::string_view text) {
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartArray();
    write_text_value(writer, registry(), type_of(oid), text);
    writer.EndArray();
    const std::string out(buffer.GetString(), buffer.GetSize());
    rapidjson::Document parsed;
    parsed.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag |
                 rapidjson::kParseIterativeFlag>(out.data(), out.size());
    INFO(out);
    // rapidjson refuses numbers beyond a double (1e400), which JSON allows.
    REQUIRE(
        (!parsed.HasParseError() || parsed.GetParseError() == rapidjson::kParseErrorNumberTooBig));
    return out.substr(1, out.size() - 2);
}

// The ValueFormatError message for a value that is not of its type's form ("" if none).
std::string error(Oid oid, std::string_view text) {
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartArray();
    try {
        write_text_value(writer, registry(), type_of(oid), text);
    } catch (const ValueFormatError& e) {
        return e.what();
    }
    return "";
}

std::string base64_reference(const std::string& bytes) {
    static const char* kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
        unsigned v = 0;
        for (std::size_t j = 0; j < 3; ++j) {
            v = v << 8 | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0u);
        }
        for (std::size_t j = 0; j < 4; ++j) {
            out += j <= n ? kAlphabet[(v >> (18 - 6 * j)) & 63] : '=';
        }
    }
    return out;
}

std::string hex(const std::string& bytes) {
    static const char* kDigits = "0123456789abcdef";
    std::string out = "\\x";
    for (unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

}  // namespace

TEST_CASE("values: bool") {
    CHECK(json(16, "t") == "true");
    CHECK(json(16, "f") == "false");
    for (const char* bad : {"", "true", "T", "1", "tt", "f "}) {
        INFO(bad);
        CHECK_THROWS_AS(json(16, bad), ValueFormatError);
    }
}

TEST_CASE("values: integers keep their exact digits") {
    CHECK(json(21, "-32768") == "-32768");
    CHECK(json(23, "0") == "0");
    CHECK(json(23, "42") == "42");
    CHECK(json(20, "9223372036854775807") == "9223372036854775807");
    CHECK(json(20, "-9223372036854775808") == "-9223372036854775808");
    CHECK(json(20, "9007199254740993") == "9007199254740993");  // 2^53 + 1
    CHECK(json(26, "4294967295") == "4294967295");
    for (const char* bad : {"", "-", "1.0", "01", "+1", "1e3", " 1", "1 ", "abc", "0x10",
                            "123456789012345678901", "NaN"}) {
        INFO(bad);
        CHECK_THROWS_AS(json(20, bad), ValueFormatError);
    }
}

TEST_CASE("values: floats are numbers, NaN and infinities strings") {
    CHECK(json(701, "1.5e+30") == "1.5e+30");
    // Negative zero keeps its sign when parsed: "-0" reads as the integer 0 in most parsers.
    CHECK(json(701, "-0") == "-0.0");
    CHECK(json(700, "-0") == "-0.0");
    // Other integral floats stay as PostgreSQL prints them.
    CHECK(json(701, "0") == "0");
    CHECK(json(700, "0") == "0");
    CHECK(json(701, "1") == "1");
    CHECK(json(701, "-1") == "-1");
    CHECK(json(701, "1e+20") == "1e+20");
    CHECK(json(701, "100000000000000") == "100000000000000");
    CHECK(json(701, "1e-05") == "1e-05");
    CHECK(json(701, "0.1") == "0.1");
    CHECK(json(701, "1.2345678901234568e+17") == "1.2345678901234568e+17");
    CHECK(json(701, "1.7976931348623157e+308") == "1.7976931348623157e+308");
    CHECK(json(701, "5e-324") == "5e-324");
    CHECK(json(700, "1.6777216e+07") == "1.6777216e+07");
    CHECK(json(700, "3.4028235e+38") == "3.4028235e+38");
    CHECK(json(700, "1e-40") == "1e-40");
    CHECK(json(701, "NaN") == R"("NaN")");
    CHECK(json(701, "Infinity") == R"("Infinity")");
    CHECK(json(700, "-Infinity") == R"("-Infinity")");
    for (const char* bad : {"", "inf", "nan", "-NaN", "1.", ".5", "1e", "1e+", "--1", "0x10", "1,5",
                            "01", "+1", "1.5 ", "infinity"}) {
        INFO(bad);
        CHECK_THROWS_AS(json(701, bad), ValueFormatError);
    }
}

TEST_CASE("values: numeric is a string with every digit") {
    CHECK(json(1700, "1234.50") == R"("1234.50")");
    CHECK(json(1700, "-0.001") == R"("-0.001")");
    CHECK(json(1700, "123456789012345678901234567890.123456789") ==
          R"("123456789012345678901234567890.123456789")");
    CHECK(json(1700, "NaN") == R"("NaN")");
    CHECK(json(1700, "Infinity") == R"("Infinity")");
    CHECK(json(1700, "-Infinity") == R"("-Infinity")");
    CHECK(json(16644, "7.00") == R"("7.00")");  // a domain over numeric
    for (const char* bad : {"", "1e5", "abc", "1.", ".5", "- 1", "1,5", "nan"}) {
        INFO(bad);
        CHECK_THROWS_AS(json(1700, bad), ValueFormatError);
    }
}

TEST_CASE("values: text-like and anything else are strings") {
    CHECK(json(25, "plain") == R"("plain")");
    CHECK(json(25, "") == R"("")");
    CHECK(json(25, "quote \" backslash \\ newline \n tab \t") ==
          R"("quote \" backslash \\ newline \n tab \t")");
    CHECK(json(25, "\x01") == R"("\u0001")");
    CHECK(json(25, "é € 😀") == "\"é € 😀\"");
    CHECK(json(1043, "{not an array}") == R"("{not an array}")");
    CHECK(json(1042, "ab   ") == R"("ab   ")");
    CHECK(json(19, "users") == R"("users")");
    CHECK(json(18, "x") == R"("x")");
    CHECK(json(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11") ==
          R"("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")");
    CHECK(json(790, "$12.34") == R"("$12.34")");
    CHECK(json(869, "192.168.0.1/24") == R"("192.168.0.1/24")");
    CHECK(json(650, "10.0.0.0/8") == R"("10.0.0.0/8")");
    CHECK(json(829, "08:00:2b:01:02:03") == R"("08:00:2b:01:02:03")");
    CHECK(json(1560, "101") == R"("101")");
    CHECK(json(3904, "[1,5)") == R"j("[1,5)")j");
    CHECK(json(4451, "{[1,3),[5,7)}") == R"j("{[1,3),[5,7)}")j");
    CHECK(json(3614, "'a' 'cat' 'fat'") == R"("'a' 'cat' 'fat'")");
    CHECK(json(142, "<a>1</a>") == R"("<a>1</a>")");
    CHECK(json(600, "(1,2)") == R"j("(1,2)")j");
    CHECK(json(3220, "0/16B3748") == R"("0/16B3748")");
    CHECK(json(28, "742") == R"("742")");
    CHECK(json(22, "1 2 3") == R"("1 2 3")");     // int2vector is no array literal
    CHECK(json(16626, "so so") == R"("so so")");  // enum
    CHECK(json(16518, "MiXeD") == R"("MiXeD")");  // citext
}

TEST_CASE("values: strings must be UTF-8") {
    for (const char* bad : {"\xff", "a\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",
                            "\x80", "abcdefgh\xe9t\xe9"}) {
        INFO(bad);
        CHECK_THROWS_AS(json(25, bad), ValueFormatError);
    }
    CHECK(json(25, "\xf4\x8f\xbf\xbf") == "\"\xf4\x8f\xbf\xbf\"");  // U+10FFFF
    CHECK(json(25, "\xed\x9f\xbf") == "\"\xed\x9f\xbf\"");          // U+D7FF
}

// Long strings take the fast paths: the 32- and 8-byte ASCII checks of the UTF-8 validation and
// rapidjson's 16-byte SSE2 copy of unescaped runs. A bad byte, a character to escape or a
// multi-byte character at every position of a 100-byte string, against a byte-wise reference.
TEST_CASE("values: long strings are checked and escaped at every position") {
    const auto escaped = [](const std::string& s) {
        std::string out = "\"";
        for (const char c : s) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += c;
            } else if (c == '\n') {
                out += "\\n";
            } else if (c == '\x01') {
                out += "\\u0001";
            } else {
                out += c;
            }
        }
        return out + "\"";
    };
    for (std::size_t at = 0; at < 100; ++at) {
        INFO(at);
        std::string base(100, 'x');
        for (std::size_t i = 0; i < base.size(); ++i) {
            base[i] = static_cast<char>('a' + i % 26);
        }
        for (const std::string insert : {"\"", "\\", "\n", "\x01", "\xc3\xa9", "\xe2\x82\xac"}) {
            std::string s = base;
            s.replace(at, 1, insert);
            CHECK(json(25, s) == escaped(s));
        }
        for (const std::string bad : {"\xff", "\xc3", "\x80"}) {
            std::string s = base;
            s.replace(at, 1, bad);
            if (bad == "\xc3" && at + 1 < s.size()) {
                s[at + 1] = 'a';  // a lead byte followed by ASCII
            }
            CHECK_THROWS_AS(json(25, s), ValueFormatError);
        }
    }
    const std::string big(10240, 'q');
    CHECK(json(25, big) == "\"" + big + "\"");
}

TEST_CASE("values: bytea is base64") {
    CHECK(json(17, "\\x0102ff") == R"("AQL/")");
    CHECK(json(17, "\\x") == R"("")");
    CHECK(json(17, "\\x68656c6c6f") == R"("aGVsbG8=")");
    CHECK(json(17, "\\x68656C6C6F") == R"("aGVsbG8=")");
    // Past the stack buffer and across encoding chunks.
    for (std::size_t size : {1u, 2u, 3u, 380u, 381u, 382u, 383u, 767u, 768u, 769u, 5000u}) {
        std::string bytes;
        for (std::size_t i = 0; i < size; ++i) {
            bytes += static_cast<char>(i * 37 + 11);
        }
        INFO(size);
        CHECK(json(17, hex(bytes)) == "\"" + base64_reference(bytes) + "\"");
    }
    for (const char* bad : {"", "0102", "\\x0", "\\x0g", "\\X01", "\\001", "x01", "\\x01 "}) {
        INFO(bad);
        CHECK_THROWS_AS(json(17, bad), ValueFormatError);
    }
}

TEST_CASE("values: json and jsonb are the value itself") {
    CHECK(json(114, R"( {"a" : [1, 2.5e3, null]} )") == R"({"a" : [1, 2.5e3, null]})");
    CHECK(json(114, "{\"a\":\n 1}") == "{\"a\":\n 1}");
    CHECK(json(114, R"({"a":1e400})") == R"({"a":1e400})");  // json keeps its text
    const std::string jsonb_1e400 = "{\"a\": 1" + std::string(400, '0') + "}";  // jsonb: numeric
    CHECK(json(3802, jsonb_1e400) == jsonb_1e400);
    CHECK(json(114, R"(["\u00e9\n\"\\\/\b\f\r\t", -0, 0.5e-3, 1E+2, {}, [], {"": {}}])") ==
          R"(["\u00e9\n\"\\\/\b\f\r\t", -0, 0.5e-3, 1E+2, {}, [], {"": {}}])");
    CHECK(json(3802, R"({"b": {"c": "dé"}, "a": 10000000000000000000000000})") ==
          R"({"b": {"c": "dé"}, "a": 10000000000000000000000000})");
    CHECK(json(3802, R"("str")") == R"("str")");
    CHECK(json(3802, "12") == "12");
    CHECK(json(3802, "-1.5") == "-1.5");
    CHECK(json(114, "null") == "null");
    CHECK(json(114, "true") == "true");
    CHECK(json(114, "false") == "false");
    CHECK(json(3802, "[]") == "[]");
    CHECK(json(16642, R"({"k": [1]})") == R"({"k": [1]})");  // a domain over jsonb
    // Deep nesting is validated without recursion, objects and arrays told apart at any depth.
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    CHECK(json(3802, deep) == deep);
    std::string opening;
    std::string closing;
    for (int i = 0; i < 3000; ++i) {
        opening += i % 3 == 0 ? "[" : "{\"k\":";
        closing.insert(0, i % 3 == 0 ? "]" : "}");
    }
    CHECK(json(3802, opening + "1" + closing) == opening + "1" + closing);
    std::string swapped = closing;
    std::swap(swapped[10], swapped[swapped.find(']')]);
    CHECK_THROWS_AS(json(3802, opening + "1" + swapped), ValueFormatError);
    swapped = closing;
    std::swap(swapped[swapped.size() - 1500], swapped[swapped.find(']', swapped.size() - 1500)]);
    CHECK_THROWS_AS(json(3802, opening + "1" + swapped), ValueFormatError);
    for (const std::string& bad : std::initializer_list<std::string>{"",
                                                                     "   ",
                                                                     "{",
                                                                     "{\"a\":}",
                                                                     "[1,]",
                                                                     "{} x",
                                                                     "{}{}",
                                                                     "nul",
                                                                     "'a'",
                                                                     "{\"a\":1,}",
                                                                     "\"\xff\"",
                                                                     std::string("{}\0{}", 5),
                                                                     std::string("[1\0]", 4),
                                                                     "01",
                                                                     "NaN",
                                                                     std::string(100000, '['),
                                                                     "\"\\x\"",
                                                                     "\"\\u12\"",
                                                                     "\"a\tb\"",
                                                                     "[1 2]",
                                                                     "{\"a\" 1}",
                                                                     "{1:2}",
                                                                     "-",
                                                                     "1.",
                                                                     ".5",
                                                                     "[",
                                                                     "]",
                                                                     "{\"a\":1]",
                                                                     "[1}",
                                                                     "tru",
                                                                     "nulll",
                                                                     "{\"a\"}",
                                                                     "[-]",
                                                                     "1e",
                                                                     "\"abc",
                                                                     "\"\\\""}) {
        INFO(bad.substr(0, 40));
        CHECK_THROWS_AS(json(3802, bad), ValueFormatError);
    }
}

TEST_CASE("values: date, BC in ISO 8601 astronomical years") {
    CHECK(json(1082, "2026-11-23") == R"("2026-11-23")");
    CHECK(json(1082, "infinity") == R"("infinity")");
    CHECK(json(1082, "-infinity") == R"("-infinity")");
    CHECK(json(1082, "0044-03-15 BC") == R"("-0043-03-15")");
    CHECK(json(1082, "0001-01-01 BC") == R"("0000-01-01")");
    CHECK(json(1082, "4714-11-24 BC") == R"("-4713-11-24")");
    CHECK(json(1082, "10000-01-01") == R"("10000-01-01")");
    CHECK(json(1082, "5874897-12-31") == R"("5874897-12-31")");
    for (const char* bad : {"", "2026-13-01", "2026-00-10", "2026-11-32", "26-11-23", "2026/11/23",
                            "2026-11-23 AD", "2026-11-23 BC ", "0000-01-01 BC", "11/23/2026",
                            "2026-11-23 00:00:00", "Infinity", "2026-1-23"}) {
        INFO(bad);
        CHECK_THROWS_AS(json(1082, bad), ValueFormatError);
    }
}

TEST_CASE("values: time and timetz") {
    CHECK(json(1083, "13:45:00.5") == R"("13:45:00.5")");
    CHECK(json(1083, "24:00:00") == R"("24:00:00")");
    CHECK(json(1083, "00:00:00") == R"("00:00:00")");
    CHECK(json(1083, "13:45:00.123456") == R"("13:45:00.123456")");
    for (const char* bad : {"", "13:45", "25:00:00", "13:45:00.1234567", "1:45:00", "13:45:00.",
                            "13:45:00+02", "13:60:00"}) {
        INFO(bad);
        CHECK_THROWS_AS(json(1083, bad), ValueFormatError);
    }
    CHECK(json(1266, "13:45:00.5+02") == R"("13:45:00.5+02:00")");
    CHECK(json(1266, "13:45:00+05:30") == R"("13:45:00+05:30")");
    CHECK(json(1266, "13:45:00+05:30:15") == R"("13:45:00+05:30:15")");
    CHECK(json(1266, "13:45:00-08") == R"("13:45:00-08:00")");
    CHECK(json(1266, "00:00:00+00") == R"("00:00:00+00:00")");
    CHECK(json(1266, "24:00:00-15:59") == R"("24:00:00-15:59")");
    CHECK(json(1266, "13:45:00+05:30:00") == R"("13:45:00+05:30")");  // not printed by PG
    for (const char* bad : {"", "13:45:00", "13:45:00+2", "13:45:00 +02",
                            "13:45:00+02:", "13:45:00+02:3", "13:45:00Z", "13:45:00+02 "}) {
        INFO(bad);
        CHECK_THROWS_AS(json(1266, bad), ValueFormatError);
    }
}

TEST_CASE("values: timestamp keeps PostgreSQL's fraction") {
    CHECK(json(1114, "2026-11-23 13:45:00.123456") == R"("2026-11-23T13:45:00.123456")");
    CHECK(json(1114, "2026-11-23 13:45:00.1") == R"("2026-11-23T13:45:00.1")");
    CHECK(json(1114, "2026-11-23 13:45:00") == R"("2026-11-23T13:45:00")");
    CHECK(json(1114, "infinity") == R"("infinity")");
    CHECK(json(1114, "-infinity") == R"("-infinity")");
    CHECK(json(1114, "0044-03-15 13:45:00 BC") == R"("-0043-03-15T13:45:00")");
    CHECK(json(1114, "4714-11-24 00:00:00 BC") == R"("-4713-11-24T00:00:00")");
    CHECK(json(1114, "294276-12-31 23:59:59.999999") == R"("294276-12-31T23:59:59.999999")");
    for (const char* bad :
         {"", "2026-11-23T13:45:00", "2026-11-23 13:45", "2026-11-23", "2026-11-23 13:45:00+00",
          "2026-11-23 24:00:00", "2026-11-23 13:45:00 BC BC", "2026-11-23  13:45:00"}) {
        INFO(bad);
        CHECK_THROWS_AS(json(1114, bad), ValueFormatError);
    }
}

TEST_CASE("values: timestamptz is UTC with six fraction digits") {
    CHECK(json(1184, "2026-11-23 11:45:00.1234+00") == R"("2026-11-23T11:45:00.123400Z")");
    CHECK(json(1184, "2026-11-23 11:45:00+00") == R"("2026-11-23T11:45:00.000000Z")");
    CHECK(json(1184, "2026-11-23 11:45:00.999999+00") == R"("2026-11-23T11:45:00.999999Z")");
    CHECK(json(1184, "infinity") == R"("infinity")");
    CHECK(json(1184, "-infinity") == R"("-infinity")");
    CHECK(json(1184, "0044-03-15 13:45:00+00 BC") == R"("-0043-03-15T13:45:00.000000Z")");
    CHECK(json(1184, "294276-12-31 23:59:59.999999+00") == R"("294276-12-31T23:59:59.999999Z")");
    // Printed under TimeZone=Europe/Amsterdam: still converted to UTC.
    CHECK(json(1184, "2026-06-01 02:00:00+02") == R"("2026-06-01T00:00:00.000000Z")");
    CHECK(json(1184, "1890-01-01 00:19:32+00:19:32") == R"("1890-01-01T00:00:00.000000Z")");
    CHECK(json(1184, "0044-03-15 14:04:32+00:19:32 BC") == R"("-0043-03-15T13:45:00.000000Z")");
    // Offsets that cross a day, a month, a leap day, a year and the BC/AD boundary (PostgreSQL
    // 15 itself converts each to the same UTC time).
    CHECK(json(1184, "2026-01-01 01:00:00.5-05") == R"("2026-01-01T06:00:00.500000Z")");
    CHECK(json(1184, "2026-12-31 23:30:00-01") == R"("2027-01-01T00:30:00.000000Z")");
    CHECK(json(1184, "2026-03-01 00:30:00+01") == R"("2026-02-28T23:30:00.000000Z")");
    CHECK(json(1184, "2024-03-01 00:30:00+01") == R"("2024-02-29T23:30:00.000000Z")");
    CHECK(json(1184, "0001-01-01 00:30:00+01") == R"("0000-12-31T23:30:00.000000Z")");
    CHECK(json(1184, "0001-12-31 23:30:00-01 BC") == R"("0001-01-01T00:30:00.000000Z")");
    CHECK(json(16640, "2026-11-23 11:45:00+00") == R"("2026-11-23T11:45:00.000000Z")");  // domain
    for (const char* bad :
         {"", "2026-11-23 11:45:00", "2026-11-23 11:45:00 UTC", "2026-11-23T11:45:00Z",
          "2026-11-23 11:45:00+00 AD", "2026-11-23 11:45:00.1234567+00", "2026-11-23 11:45+00"}) {
        INFO(bad);
        CHECK_THROWS_AS(json(1184, bad), ValueFormatError);
    }
}

TEST_CASE("values: interval passes through as an ISO 8601 duration") {
    for (const char* iso : {"P1Y2M3DT4H5M6.5S", "PT0S", "P-1Y-2M3DT-4H", "PT-0.5S", "P1DT-1S",
                            "P178000000Y", "P-177999999Y-11M", "PT1.5S", "P-1DT1.5S"}) {
        INFO(iso);
        CHECK(json(1186, iso) == "\"" + std::string(iso) + "\"");
    }
    for (const char* bad :
         {"", "P", "1 year 2 mons", "@ 1 year", "1 day", "P1", "PT1H ", "P1Y\"", "-P1D"}) {
        INFO(bad);
        CHECK_THROWS_AS(json(1186, bad), ValueFormatError);
    }
}

TEST_CASE("values: arrays of every element kind") {
    CHECK(json(1007, "{1,2,NULL}") == "[1,2,null]");
    CHECK(json(1016, "{9223372036854775807}") == "[9223372036854775807]");
    CHECK(json(1000, "{t,f,NULL}") == "[true,false,null]");
    CHECK(json(1022, "{1.5,NaN,-Infinity,1e+30}") == R"([1.5,"NaN","-Infinity",1e+30])");
    CHECK(json(1021, "{1.5,NaN}") == R"([1.5,"NaN"])");
    CHECK(json(1022, "{-0,0,-1,NULL}") == "[-0.0,0,-1,null]");
    CHECK(json(1021, "{{-0},{0}}") == "[[-0.0],[0]]");
    CHECK(json(1231, "{1.50,NaN,Infinity}") == R"(["1.50","NaN","Infinity"])");
    CHECK(json(1001, R"({"\\x0102","\\x"})") == R"(["AQI=",""])");
    CHECK(json(199, R"({"{\"a\": 1}","[1,2]","null","\"s\""})") == R"([{"a": 1},[1,2],null,"s"])");
    CHECK(json(3807, R"({"{\"a\": 1}","[1, 2]","null"})") == R"([{"a": 1},[1, 2],null])");
    CHECK(json(2951, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}") ==
          R"(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"])");
    CHECK(json(1185, R"({"2026-11-23 11:45:00.1234+00",NULL})") ==
          R"(["2026-11-23T11:45:00.123400Z",null])");
    CHECK(json(1115, R"({"2026-11-23 13:45:00"})") == R"(["2026-11-23T13:45:00"])");
    CHECK(json(1182, R"({2026-01-01,"0044-03-15 BC"})") == R"(["2026-01-01","-0043-03-15"])");
    CHECK(json(1183, "{13:45:00.5}") == R"(["13:45:00.5"])");
    CHECK(json(1270, "{13:45:00+02}") == R"(["13:45:00+02:00"])");
    CHECK(json(1187, "{PT1H}") == R"(["PT1H"])");
    CHECK(json(1020, "{(1,1),(0,0);(3,3),(2,2)}") == R"j(["(1,1),(0,0)","(3,3),(2,2)"])j");
    CHECK(json(1041, "{192.168.0.1/24,NULL}") == R"(["192.168.0.1/24",null])");
    CHECK(json(1006, R"({"1 2","3"})") == R"(["1 2","3"])");
    CHECK(json(3905, R"j({"[1,5)",empty})j") == R"j(["[1,5)","empty"])j");
}

TEST_CASE("values: text arrays with quotes, backslashes, delimiters and braces") {
    CHECK(json(1009, R"({"a b","x\"y","back\\slash","NULL","null","","c,d","{e}"," lead"})") ==
          R"(["a b","x\"y","back\\slash","NULL","null","","c,d","{e}"," lead"])");
    CHECK(json(1009, "{\"a\\\\b\\\"c\",\"{x}\",\"y,z\",\" \",\"tab\there\",é}") ==
          R"(["a\\b\"c","{x}","y,z"," ","tab\there","é"])");
    CHECK(json(1009, "{}") == "[]");
    CHECK(json(1009, "{NULL,null,Null}") == "[null,null,null]");
    CHECK(json(1009, R"({"NULL"})") == R"(["NULL"])");
    CHECK(json(1009, R"({\NULL})") == R"(["NULL"])");  // escaped: a string (array_in)
    // array_in's forms that array_out does not print: whitespace and unquoted escapes (read the
    // same way by PostgreSQL 15).
    CHECK(json(1007, " { 1 , 2 } ") == "[1,2]");
    CHECK(json(1009, R"({ "a" , b c  })") == R"(["a","b c"])");
    CHECK(json(1009, R"({a\,b,c\ })") == R"(["a,b","c "])");
    CHECK(json(1015, R"({"long element with \"escapes\" in it, and more"})") ==
          R"(["long element with \"escapes\" in it, and more"])");
}

TEST_CASE("values: multidimensional arrays nest per dimension") {
    CHECK(json(1007, "{{1,2},{3,4}}") == "[[1,2],[3,4]]");
    CHECK(json(1007, "{{{1,2},{3,4}},{{5,6},{7,8}}}") == "[[[1,2],[3,4]],[[5,6],[7,8]]]");
    CHECK(json(1009, "{{{a,b},{c,d}},{{e,f},{g,h}}}") ==
          R"([[["a","b"],["c","d"]],[["e","f"],["g","h"]]])");
    CHECK(json(1007, "[0:1]={1,2}") == "[1,2]");
    CHECK(json(1007, "[0:1][2:3]={{1,2},{3,4}}") == "[[1,2],[3,4]]");
    CHECK(json(1007, "[-2:-1]={1,2}") == "[1,2]");
    CHECK(json(1007, "{{{{{{1}}}}}}") == "[[[[[[1]]]]]]");
    CHECK(json(1007, "{{NULL,2},{3,NULL}}") == "[[null,2],[3,null]]");
}

TEST_CASE("values: domains, enums and arrays of them") {
    CHECK(json(16623, "5") == "5");
    CHECK(json(16622, "{1,2}") == "[1,2]");
    CHECK(json(16625, R"({happy,"so so"})") == R"(["happy","so so"])");
    CHECK(json(16634, "{1,2}") == "[1,2]");  // a domain over int4[]
    CHECK(json(16633, R"({"{1,2}","{3}"})") == "[[1,2],[3]]");
    CHECK(json(16635, "{(1,1),(0,0)}") == R"j(["(1,1),(0,0)"])j");
    CHECK(json(16641, R"({"2026-11-23 11:45:00+00"})") == R"(["2026-11-23T11:45:00.000000Z"])");
    CHECK(json(16643, R"({"{\"a\": 1}",NULL})") == R"([{"a": 1},null])");
    CHECK(json(16523, "{x,Y}") == R"(["x","Y"])");
}

TEST_CASE("values: hstore is an object") {
    CHECK(json(16390, R"(""=>"", "a"=>"1", "b"=>NULL, "e"=>"back\\slash", "c d"=>"x\"y")") ==
          R"({"":"","a":"1","b":null,"e":"back\\slash","c d":"x\"y"})");
    CHECK(json(16390, "") == "{}");
    CHECK(json(16390, R"("k"=>"NULL")") == R"({"k":"NULL"})");
    CHECK(json(16390, R"("NULL"=>null)") == R"({"NULL":null})");
    CHECK(json(16390, "a=>1, b => NULL ,c=>x") == R"({"a":"1","b":null,"c":"x"})");
    CHECK(json(16395, R"({"\"a\"=>\"1\"",NULL})") == R"([{"a":"1"},null])");
    CHECK(json(16395, R"({"\"k\"=>\"x\\\\\\\"y\""})") == R"([{"k":"x\\\"y"}])");
    for (const char* bad :
         {R"("a"=>)", R"("a")", R"("a"=>"1",)", R"("a"=>"1" "b"=>"2")", R"("a=>"1")", "a=>1,,b=>2",
          R"("a"=>"1)", R"("a"->"1")", "\"\xff\"=>\"1\"", "\"a\"=>\"\xff\""}) {
        INFO(bad);
        CHECK_THROWS_AS(json(16390, bad), ValueFormatError);
    }
}

TEST_CASE("values: malformed arrays") {
    for (const char* bad :
         {"",           "1,2",     "{1,2",    "{1,,2}",          "{,}",     "{1,2}}",
          "{1,2} x",    "{{1},2}", "{1,{2}}", "{{1,2},3}",       R"({"a})", R"({a"b})",
          "[0:1]{1,2}", "[x]={1}", "[0:1]=",  "{{{{{{{1}}}}}}}", "{1;2}",   R"({"a"b})",
          "{1 2}",      "{a{b}}",  "{\"\\"}) {
        INFO(bad);
        CHECK_THROWS_AS(json(1007, bad), ValueFormatError);
    }
    CHECK_THROWS_AS(json(1009, "{a,b"), ValueFormatError);
    // Elements are checked by their own type.
    CHECK_THROWS_AS(json(1000, "{t,x}"), ValueFormatError);
    CHECK_THROWS_AS(json(1001, R"({"\\x0g"})"), ValueFormatError);
    CHECK_THROWS_AS(json(3807, R"({"{\"a\":}"})"), ValueFormatError);
    CHECK_THROWS_AS(json(1185, R"({"2026-11-23 11:45:00"})"), ValueFormatError);
    CHECK_THROWS_AS(json(1231, "{1e5}"), ValueFormatError);
    CHECK_THROWS_AS(json(16395, R"({"\"a\"=>"})"), ValueFormatError);
    CHECK_THROWS_AS(json(1009, "{\"\xff\"}"), ValueFormatError);
}

TEST_CASE("values: errors name the type and quote the start of the value") {
    const std::string simple = error(23, "abc");
    CHECK(simple.find("int4") != std::string::npos);
    CHECK(simple.find("\"abc\"") != std::string::npos);

    const std::string long_value = error(23, std::string(100, '9') + "x");
    CHECK(long_value.find('"' + std::string(40, '9') + "...\"") != std::string::npos);
    CHECK(long_value.find(std::string(41, '9')) == std::string::npos);

    const std::string element = error(1007, "{1,abc}");
    CHECK(element.find("int4 value \"abc\"") != std::string::npos);
    CHECK(element.find("_int4 value \"{1,abc}\"") != std::string::npos);

    const std::string control = error(1184, "2026\n\x01");
    CHECK(control.find("timestamptz") != std::string::npos);
    CHECK(control.find("\"2026??\"") != std::string::npos);

    // A multi-byte character is not cut in half.
    const std::string utf8 = error(16, std::string(39, 'a') + "é");
    CHECK(utf8.find('"' + std::string(39, 'a') + "...\"") != std::string::npos);
}

TEST_CASE("values: no heap allocation for scalar values") {
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartArray();  // the writer's own buffers, allocated once per encoder
    writer.String(std::string(8192, 'x').c_str(), 8192);
    buffer.Clear();  // keeps the capacity
    struct Case {
        Oid oid;
        const char* text;
    };
    const Case cases[] = {
        {16, "t"},
        {20, "9223372036854775807"},
        {701, "1.5e+30"},
        {701, "NaN"},
        {1700, "1234.50"},
        {25, "some text with \"quotes\" and é"},
        {2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
        {17, "\\x0102ff0102ff0102ff0102ff0102ff"},
        {3802, R"({"a": [1, 2, {"b": "c"}], "d": "a longer string value than sixteen"})"},
        {1082, "0044-03-15 BC"},
        {1083, "13:45:00.5"},
        {1266, "13:45:00.5+02"},
        {1114, "2026-11-23 13:45:00.123456"},
        {1184, "2026-11-23 11:45:00.1234+00"},
        {1184, "2026-06-01 02:00:00+02"},
        {1186, "P1Y2M3DT4H5M6.5S"},
        {1007, "{{1,2},{3,NULL}}"},
        {1009, R"({"a b",c,"d,e"})"},
        {1185, R"({"2026-11-23 11:45:00.1234+00",NULL})"},
        {16390, R"("a"=>"1", "b"=>NULL)"},
    };
    const long counted_before = g_allocations.load();
    g_probe = new std::string(100, 'x');  // the counter sees allocations at all
    delete g_probe;
    REQUIRE(g_allocations.load() > counted_before);
    for (const Case& c : cases) {
        INFO(c.text);
        const TypeInfo& type = type_of(c.oid);
        const long before = g_allocations.load();
        write_text_value(writer, registry(), type, c.text);
        CHECK(g_allocations.load() == before);
    }
}
