// Every type of the contract's table, end to end: a wide table with ordinary, edge and NULL
// rows is captured twice, in text mode and in binary mode, and both must give byte-for-byte the
// same `after`; selected values are checked against the contract's forms; and wal2json, an
// independent decoder, must see the same values in the same WAL.
#include <openssl/evp.h>

#include <cmath>
#include <map>
#include <optional>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::parse_json;
using pgcs::testing::pg_conninfo;
using pgcs::testing::PgClient;
using pgcs::testing::Record;
using pgcs::testing::unique_suffix;

namespace {

// Shared types, created once per test and dropped at the end.
struct SharedTypes {
    std::string s = unique_suffix();
    PgClient pg{pg_conninfo()};
    SharedTypes() {
        // Tests run in parallel: CREATE EXTENSION IF NOT EXISTS races without a lock.
        pg.exec(
            "SELECT pg_advisory_xact_lock(7251); CREATE EXTENSION IF NOT EXISTS hstore; "
            "CREATE EXTENSION IF NOT EXISTS citext");
        pg.exec("CREATE TYPE mood_" + s + " AS ENUM ('sad', 'happy'); CREATE DOMAIN qty_" + s +
                " AS numeric(10,2) CHECK (VALUE >= 0); CREATE TYPE pair_" + s +
                " AS (a int, b text)");
    }
    ~SharedTypes() {
        try {
            pg.exec("DROP TYPE IF EXISTS mood_" + s + " CASCADE; DROP DOMAIN IF EXISTS qty_" + s +
                    " CASCADE; DROP TYPE IF EXISTS pair_" + s + " CASCADE");
        } catch (const std::exception& e) {
            WARN("clean-up: " << e.what());
        }
    }
    std::string ddl() const {
        return "CREATE TABLE {table} (id int PRIMARY KEY, c_bool bool, c_int2 int2, c_int4 int4, "
               "c_int8 int8, c_oid oid, c_float4 float4, c_float8 float8, c_numeric numeric, "
               "c_numeric_s numeric(12,4), c_text text, c_varchar varchar(20), c_bpchar char(5), "
               "c_name name, c_citext citext, c_bytea bytea, c_json json, c_jsonb jsonb, "
               "c_uuid uuid, c_date date, c_time time, c_timetz timetz, c_ts timestamp, "
               "c_tstz timestamptz, c_interval interval, c_int4a int4[], c_texta text[], "
               "c_numerica numeric[], c_tstza timestamptz[], c_jsona json[], c_uuida uuid[], "
               "c_boola bool[], c_float8a float8[], c_datea date[], c_hstore hstore, "
               "c_domain qty_" +
               s + ", c_domaina qty_" + s + "[], c_enum mood_" + s + ", c_enuma mood_" + s +
               "[], c_inet inet, c_cidr cidr, c_macaddr macaddr, c_money money, c_bit bit(4), "
               "c_varbit varbit, c_range int4range, c_point point, c_box box, c_xml xml, "
               "c_tsvector tsvector, c_pair pair_" +
               s + ", c_char \"char\")";
    }
};

// The rows: ordinary, edge values, BC dates and formatting corners, and all NULL.
const std::vector<std::string> kRows = {
    "(1, true, 12, 123456, 1234567890123, 42, 1.5, 3.141592653589793, 1234.5678, 1.5, 'hello', "
    "'world', 'ab', 'nm', 'MiXed', '\\x0102ff', '{\"k\": [1, \"two\", null]}', "
    "'{\"z\": 1, \"a\": {\"b\": false}}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2026-11-23', "
    "'13:45:00.5', '13:45:00.5+02', '2026-11-23 13:45:00.123456', "
    "'2026-11-23 13:45:00.123456+02', '1 year 2 mons 3 days 04:05:06.5', '{1,2,3}', '{a,b}', "
    "'{1.5,2.25}', '{\"2026-01-01 00:00:00+00\"}', ARRAY['{\"a\":1}'::json], "
    "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', '{t,f}', '{1.5,2.5}', "
    "'{{2026-01-01,2026-01-02},{2026-02-01,NULL}}', 'a=>1, b=>NULL', 5.5, '{1.25,NULL}', "
    "'happy', '{sad,happy}', '192.168.0.1', '10.0.0.0/8', '08:00:2b:01:02:03', 12.34, B'1010', "
    "B'10101', '[1,10)', '(1,2)', '((0,0),(1,1))', '<a>x</a>', 'fat cat', ROW(1, 'x'), 'q')",
    "(2, false, -32768, -2147483648, 9007199254740993, 4294967295, '-Infinity', 'NaN', "
    "'NaN', 0.0001, E'\\u00fc \"q\" \\\\ back\\nnew\\ttab \\U0001F600', '', 'a', '', '', '', "
    "'[ ]', '\"str\"', '00000000-0000-0000-0000-000000000000', 'infinity', '24:00:00', "
    "'00:00:00-03:30', '-infinity', 'infinity', '-1 year -2 mons +3 days -04:05:06.5', '{}', "
    "'{\"\",NULL,\"NULL\",\"a,b\",\"q\\\"\",\"back\\\\slash\",\" sp\"}', '{NaN,-1.000}', "
    "'{infinity,NULL}', '{}', '{NULL}', '[0:1]={t,f}', '{NaN,Infinity,-0,1e300,5e-324}', "
    "'{infinity}', '\"a b\"=>\"c\\\"d\", \"e\"=>\"\"', 0, '{}', 'sad', '{}', '::1', '::/0', "
    "'ff:ff:ff:ff:ff:ff', -1, B'0000', B'', 'empty', '(-1.5,2)', '((1,2),(3,4))', '', '', "
    "ROW(NULL, 'a \"b\"'), '')",
    "(3, true, 32767, 2147483647, -9223372036854775808, 0, 1e-05, 1e15, "
    "123456789012345678901234567890.123456789, -0.5, 'x', 'y', 'abcde', 'z', 'Z', '\\x00', "
    "'1.0e3', '{\"n\": 1.0e3, \"u\": \"\\u00e9\"}', 'ffffffff-ffff-ffff-ffff-ffffffffffff', "
    "'0044-03-15 BC', '00:00:00', '23:59:59.999999+14', '0001-01-01 00:00:00 BC', "
    "'2000-02-29 23:59:59.999999+00', '0', '{-1}', '{\"\\\\\"}', '{100000000,0.000001}', "
    "'{\"1999-12-31 23:59:59.5+00\"}', ARRAY['[1,2]'::json, NULL], '{}', '{NULL,t}', "
    "'{1e15,1e14,0.0001,0.00001}', '{0044-03-15 BC}', '', 100000, '{0.5}', 'happy', '{happy}', "
    "'10.1.2.3/32', '192.168.0.0/16', '00:00:00:00:00:00', 0, B'1111', B'1', '[-5,5]', "
    "'(0,0)', '((0,0),(0,0))', '<r/>', 'a:1 b:2', ROW(-1, ''), 'Z')",
    "(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "(5, true, 1, 1, 1, 1, 123456, 1234567, 100000000, 10000, 'a', 'b', 'c', 'd', 'e', "
    "'\\xdeadbeef', '{}', '[]', '12345678-1234-1234-1234-123456789abc', '1999-01-08', "
    "'01:02:03.000001', '01:02:03+05:30:15', '1999-01-08 04:05:06.1', "
    "'1999-01-08 04:05:06.1-08', '1.5 seconds', '{{1,2},{3,4}}', '{\"a b\"}', '{Infinity}', "
    "'{}', '{}', '{}', '{}', '{-Infinity}', '{}', 'x=>NULL', 1, '{1}', 'sad', '{sad,sad}', "
    "'0.0.0.0', '0.0.0.0/0', '01:02:03:04:05:06', 1000000, B'0101', B'00', '(,)', "
    "'(1e300,-1e-300)', '((1,1),(0,0))', '<x a=\"1\"/>', 'x', ROW(2147483647, NULL), 'a')",
    // Negative zero floats, everything else NULL.
    "(6, NULL, NULL, NULL, NULL, NULL, '-0', '-0', NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
};

// The raw `after` object of a record's value, as the daemon wrote it (never re-serialised).
std::string raw_after(const std::string& value) {
    const auto from = value.find("\"after\":");
    const auto to = value.find(",\"changed\":");
    REQUIRE(from != std::string::npos);
    REQUIRE(to != std::string::npos);
    return value.substr(from + 8, to - from - 8);
}

std::map<int, std::string> after_by_id(const std::vector<Record>& records) {
    std::map<int, std::string> out;
    for (const auto& r : records) {
        out[parse_json(r.value)["after"]["id"].GetInt()] = raw_after(r.value);
    }
    return out;
}

void insert_rows(CaptureFixture& fx) {
    for (const auto& row : kRows) {
        fx.exec("INSERT INTO {table} VALUES " + row);
    }
}

}  // namespace

TEST_CASE("every type: text and binary mode give the same JSON, in the contract's forms",
          "[pgmatrix]") {
    SharedTypes types;
    CaptureFixture text_fx(types.ddl());
    CaptureFixture binary_fx(types.ddl());
    binary_fx.postgres_extra = "  binary: true\n";
    text_fx.start_daemon();
    binary_fx.start_daemon();
    insert_rows(text_fx);
    insert_rows(binary_fx);
    const auto text = after_by_id(text_fx.read(kRows.size()));
    const auto binary = after_by_id(binary_fx.read(kRows.size()));
    INFO("text daemon log:\n" << text_fx.daemon_log());
    INFO("binary daemon log:\n" << binary_fx.daemon_log());
    REQUIRE(text.size() == kRows.size());
    REQUIRE(binary.size() == kRows.size());
    for (const auto& [id, after] : text) {
        INFO("row " << id);
        CHECK(binary.at(id) == after);
    }
    CHECK(binary_fx.daemon_log().find("pgoutput v2, streaming, binary") != std::string::npos);

    // The contract's forms, in the raw text.
    auto has = [&](int id, const std::string& part) {
        INFO("row " << id << ": " << text.at(id));
        CHECK(text.at(id).find(part) != std::string::npos);
    };
    has(1, "\"c_bool\":true,\"c_int2\":12,\"c_int4\":123456,\"c_int8\":1234567890123,\"c_oid\":42");
    has(1,
        "\"c_float4\":1.5,\"c_float8\":3.141592653589793,\"c_numeric\":\"1234.5678\","
        "\"c_numeric_s\":\"1.5000\"");
    has(1, "\"c_bpchar\":\"ab   \"");
    has(1, "\"c_bytea\":\"AQL/\"");
    // json as written, jsonb as PostgreSQL normalises it: the value itself, never a string.
    has(1, "\"c_json\":{\"k\": [1, \"two\", null]},\"c_jsonb\":{\"a\": {\"b\": false}, \"z\": 1}");
    has(1, "\"c_date\":\"2026-11-23\",\"c_time\":\"13:45:00.5\",\"c_timetz\":\"13:45:00.5+02:00\"");
    has(1, "\"c_ts\":\"2026-11-23T13:45:00.123456\",\"c_tstz\":\"2026-11-23T11:45:00.123456Z\"");
    has(1, "\"c_interval\":\"P1Y2M3DT4H5M6.5S\"");
    has(1, "\"c_int4a\":[1,2,3],\"c_texta\":[\"a\",\"b\"],\"c_numerica\":[\"1.5\",\"2.25\"]");
    has(1, "\"c_tstza\":[\"2026-01-01T00:00:00.000000Z\"],\"c_jsona\":[{\"a\":1}]");
    has(1, "\"c_datea\":[[\"2026-01-01\",\"2026-01-02\"],[\"2026-02-01\",null]]");
    has(1,
        "\"c_hstore\":{\"a\":\"1\",\"b\":null},\"c_domain\":\"5.50\","
        "\"c_domaina\":[\"1.25\",null],\"c_enum\":\"happy\",\"c_enuma\":[\"sad\",\"happy\"]");
    has(1, "\"c_inet\":\"192.168.0.1\"");
    has(1, "\"c_range\":\"[1,10)\"");
    has(1, "\"c_pair\":\"(1,x)\"");
    has(2,
        "\"c_int8\":9007199254740993,\"c_oid\":4294967295,\"c_float4\":\"-Infinity\","
        "\"c_float8\":\"NaN\",\"c_numeric\":\"NaN\"");
    has(2, "\"c_text\":\"\xc3\xbc \\\"q\\\" \\\\ back\\nnew\\ttab \xf0\x9f\x98\x80\"");
    has(2, "\"c_json\":[ ],\"c_jsonb\":\"str\"");
    has(2,
        "\"c_date\":\"infinity\",\"c_time\":\"24:00:00\",\"c_timetz\":\"00:00:00-03:30\","
        "\"c_ts\":\"-infinity\",\"c_tstz\":\"infinity\"");
    has(2,
        "\"c_int4a\":[],\"c_texta\":[\"\",null,\"NULL\",\"a,b\",\"q\\\"\",\"back\\\\slash\","
        "\" sp\"],\"c_numerica\":[\"NaN\",\"-1.000\"]");
    has(2, "\"c_float8a\":[\"NaN\",\"Infinity\",-0.0,1e+300,5e-324]");
    has(2, "\"c_hstore\":{\"e\":\"\",\"a b\":\"c\\\"d\"}");  // hstore's own key order
    has(3, "\"c_int8\":-9223372036854775808");
    has(3, "\"c_numeric\":\"123456789012345678901234567890.123456789\"");
    has(3, "\"c_float4\":1e-05,\"c_float8\":1e+15");
    has(4, "{\"id\":4,\"c_bool\":null,");
    has(4, "\"c_char\":null}");
    // A float -0 keeps its sign when parsed: -0.0, a double with the sign bit, in both modes.
    has(6, "\"c_float4\":-0.0,\"c_float8\":-0.0,");
    for (const auto* mode : {&text, &binary}) {
        const auto after = parse_json(mode->at(6));
        for (const char* column : {"c_float4", "c_float8"}) {
            INFO((mode == &text ? "text mode, " : "binary mode, ") << column);
            REQUIRE(after[column].IsDouble());
            CHECK(after[column].GetDouble() == 0.0);
            CHECK(std::signbit(after[column].GetDouble()));
        }
    }
}

namespace {

// --- wal2json oracle: its text (format-version 2, TimeZone=UTC, IntervalStyle=iso_8601)
// mapped to the contract's forms by rules written here, independently of the daemon's code.

using Doc = rapidjson::Document;
using JValue = rapidjson::Value;
constexpr unsigned kRaw = rapidjson::kParseNumbersAsStringsFlag;  // numbers keep their digits

Doc parse_raw(const std::string& text) {
    Doc d;
    d.Parse<kRaw>(text.c_str(), text.size());
    REQUIRE_FALSE(d.HasParseError());
    return d;
}

std::string str(const JValue& v) {
    return {v.GetString(), v.GetStringLength()};
}

std::string hex_of_base64(const std::string& b64) {
    std::string bytes(b64.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                            reinterpret_cast<const unsigned char*>(b64.data()),
                            static_cast<int>(b64.size()));
    REQUIRE(n >= 0);
    n -= static_cast<int>(
        std::count(b64.end() - std::min<std::size_t>(2, b64.size()), b64.end(), '='));
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (int i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
        hex += kHex[c >> 4];
        hex += kHex[c & 15];
    }
    return hex;
}

// "0044-03-15 BC" -> "-0043-03-15"; other dates unchanged.
std::string astronomical(std::string date_time) {
    if (date_time.size() < 3 || date_time.substr(date_time.size() - 3) != " BC") {
        return date_time;
    }
    date_time.resize(date_time.size() - 3);
    const auto dash = date_time.find('-');
    const long year = 1 - std::stol(date_time.substr(0, dash));
    char buf[16];
    std::snprintf(buf, sizeof buf, year < 0 ? "-%04ld" : "%04ld", year < 0 ? -year : year);
    return buf + date_time.substr(dash);
}

std::string map_timestamptz(std::string t) {
    if (t == "infinity" || t == "-infinity") {
        return t;
    }
    const bool bc = t.size() > 3 && t.substr(t.size() - 3) == " BC";
    if (bc) {
        t.resize(t.size() - 3);
    }
    REQUIRE(t.substr(t.size() - 3) == "+00");  // the session runs in UTC
    t.resize(t.size() - 3);
    auto dot = t.find('.');
    std::string frac = dot == std::string::npos ? "" : t.substr(dot + 1);
    t = t.substr(0, dot);
    frac.resize(6, '0');
    t = astronomical(t + (bc ? " BC" : ""));
    t[t.find(' ')] = 'T';
    return t + "." + frac + "Z";
}

std::string map_timetz(const std::string& t) {
    const auto sign = t.find_last_of("+-");
    std::string zone = t.substr(sign);
    if (zone.size() == 3) {
        zone += ":00";
    }
    return t.substr(0, sign) + zone;
}

// PostgreSQL array text -> nested vectors of optional element texts.
struct ArrayNode {
    bool leaf = false;
    std::optional<std::string> text;
    std::vector<ArrayNode> items;
};

ArrayNode parse_array(const std::string& s, std::size_t& i) {
    ArrayNode node;
    REQUIRE(s[i] == '{');
    ++i;
    while (s[i] != '}') {
        if (s[i] == '{') {
            node.items.push_back(parse_array(s, i));
        } else {
            ArrayNode leaf;
            leaf.leaf = true;
            std::string text;
            bool quoted = false;
            if (s[i] == '"') {
                quoted = true;
                for (++i; s[i] != '"'; ++i) {
                    if (s[i] == '\\') {
                        ++i;
                    }
                    text += s[i];
                }
                ++i;
            } else {
                for (; s[i] != ',' && s[i] != '}'; ++i) {
                    text += s[i];
                }
            }
            if (!(text == "NULL" && !quoted)) {
                leaf.text = text;
            }
            node.items.push_back(leaf);
        }
        if (s[i] == ',') {
            ++i;
        }
    }
    ++i;
    return node;
}

// hstore text -> key -> optional value.
std::map<std::string, std::optional<std::string>> parse_hstore(const std::string& s) {
    std::map<std::string, std::optional<std::string>> out;
    std::size_t i = 0;
    auto quoted = [&] {
        std::string t;
        REQUIRE(s[i] == '"');
        for (++i; s[i] != '"'; ++i) {
            if (s[i] == '\\') {
                ++i;
            }
            t += s[i];
        }
        ++i;
        return t;
    };
    while (i < s.size()) {
        const std::string key = quoted();
        REQUIRE(s.substr(i, 2) == "=>");
        i += 2;
        if (s.substr(i, 4) == "NULL") {
            out[key] = std::nullopt;
            i += 4;
        } else {
            out[key] = quoted();
        }
        if (s.substr(i, 2) == ", ") {
            i += 2;
        }
    }
    return out;
}

struct Oracle {
    std::map<std::string, std::string> base;  // domain or enum name -> the type it acts as
    int lost = 0;                             // values wal2json cannot represent (NaN, ±Inf)

    std::string kind(const std::string& type) const {
        auto it = base.find(type);
        return it == base.end() ? type : it->second;
    }

    // Does our value match the element/scalar text PostgreSQL printed?
    void check_text(const std::string& type, const std::string& text, const JValue& ours) {
        const std::string k = kind(type);
        INFO("type " << type << ", PostgreSQL text " << text);
        if (k == "bool") {
            CHECK(ours.GetBool() == (text == "t" || text == "true"));
        } else if (k == "int2" || k == "int4" || k == "int8" || k == "oid") {
            CHECK(str(ours) == text);
        } else if (k == "float4" || k == "float8") {
            // PostgreSQL prints negative zero "-0"; the contract writes it -0.0 (sign kept).
            CHECK(str(ours) == (text == "-0" ? "-0.0" : text));
        } else if (k == "numeric") {
            CHECK(str(ours) == text);
        } else if (k == "bytea") {
            CHECK(hex_of_base64(str(ours)) == (text.rfind("\\x", 0) == 0 ? text.substr(2) : text));
        } else if (k == "json" || k == "jsonb") {
            CHECK(ours == parse_raw(text));
        } else if (k == "date") {
            CHECK(str(ours) == astronomical(text));
        } else if (k == "timestamp") {
            std::string t = astronomical(text);
            if (t != "infinity" && t != "-infinity") {
                t[t.find(' ')] = 'T';
            }
            CHECK(str(ours) == t);
        } else if (k == "timestamptz") {
            CHECK(str(ours) == map_timestamptz(text));
        } else if (k == "timetz") {
            CHECK(str(ours) == map_timetz(text));
        } else if (k == "hstore") {
            const auto expected = parse_hstore(text);
            REQUIRE(ours.IsObject());
            CHECK(ours.MemberCount() == expected.size());
            for (const auto& [key, value] : expected) {
                REQUIRE(ours.HasMember(key.c_str()));
                const JValue& v = ours[key.c_str()];
                CHECK((value ? v.IsString() && str(v) == *value : v.IsNull()));
            }
        } else if (k.size() > 1 && k[0] == '_') {
            std::size_t i = text[0] == '[' ? text.find('=') + 1 : 0;  // bounds: values only
            check_array(kind(k.substr(1)), parse_array(text, i), ours);
        } else {
            CHECK(str(ours) == text);  // strings: text, uuid, enum, time, interval, inet, ...
        }
    }

    void check_array(const std::string& element, const ArrayNode& node, const JValue& ours) {
        REQUIRE(ours.IsArray());
        REQUIRE(ours.Size() == node.items.size());
        for (rapidjson::SizeType i = 0; i < ours.Size(); ++i) {
            const ArrayNode& item = node.items[i];
            if (!item.leaf) {
                check_array(element, item, ours[i]);
            } else if (!item.text) {
                CHECK(ours[i].IsNull());
            } else {
                check_text(element, *item.text, ours[i]);
            }
        }
    }

    void check(const std::string& type, const JValue& w2j, const JValue& ours) {
        const std::string k = kind(type);
        if (w2j.IsNull()) {
            if (ours.IsString() && (k == "float4" || k == "float8" || k == "numeric")) {
                // wal2json prints NaN and ±Infinity as null: it loses them, the daemon does not.
                const std::string v = str(ours);
                CHECK((v == "NaN" || v == "Infinity" || v == "-Infinity"));
                ++lost;
            } else {
                CHECK(ours.IsNull());
            }
        } else if (w2j.IsBool()) {
            CHECK(ours.GetBool() == w2j.GetBool());
        } else {
            check_text(type, str(w2j), ours);  // wal2json's numbers arrive as raw strings too
        }
    }
};

}  // namespace

TEST_CASE("wal2json decodes the same WAL to the same values", "[devbroker-only]") {
    SharedTypes types;
    CaptureFixture fx(types.ddl());
    fx.start_daemon();
    const std::string w2j_slot = "w2j_" + types.s;
    fx.pg().exec("SELECT 1 FROM pg_create_logical_replication_slot('" + w2j_slot +
                 "', 'wal2json')");
    struct DropSlot {
        PgClient& pg;
        std::string slot;
        ~DropSlot() {
            try {
                pg.exec("SELECT pg_drop_replication_slot('" + slot + "')");
            } catch (...) {  // NOLINT(bugprone-empty-catch): the slot may not exist
            }
        }
    } drop{fx.pg(), w2j_slot};
    insert_rows(fx);
    const auto records = fx.read(kRows.size());
    REQUIRE(records.size() == kRows.size());

    PgClient pg(pg_conninfo());
    pg.exec("SET TimeZone = 'UTC'; SET IntervalStyle = iso_8601; SET extra_float_digits = 3");
    std::vector<std::string> changes;
    {
        const std::string sql =
            "SELECT string_agg(data, E'\\n') FROM pg_logical_slot_get_changes('" + w2j_slot +
            "', NULL, NULL, 'format-version', '2', 'include-transaction', 'false', "
            "'add-tables', 'public." +
            fx.table() + "')";
        std::stringstream lines(pg.value(sql));
        for (std::string line; std::getline(lines, line);) {
            // Other daemons' heartbeats (logical messages) come too: keep the row changes.
            if (line.find("\"action\":\"M\"") == std::string::npos) {
                changes.push_back(line);
            }
        }
    }
    REQUIRE(changes.size() == kRows.size());

    std::map<int, Doc> ours;
    for (const auto& r : records) {
        Doc d = parse_raw(r.value);
        const int id = std::stoi(str(d["after"]["id"]));
        ours[id] = std::move(d);
    }
    Oracle oracle;
    oracle.base = {{"qty_" + types.s, "numeric"},
                   {"_qty_" + types.s, "_numeric"},
                   {"mood_" + types.s, "text"},
                   {"_mood_" + types.s, "_text"},
                   {"varchar", "text"},
                   {"bpchar", "text"},
                   {"name", "text"},
                   {"citext", "text"}};
    for (const auto& line : changes) {
        const Doc w = parse_raw(line);
        REQUIRE(str(w["action"]) == "I");
        const JValue& columns = w["columns"];
        const int id = std::stoi(str(columns[0]["value"]));
        INFO("row " << id);
        REQUIRE(ours.count(id) == 1);
        const Doc& event = ours[id];
        CHECK(columns.Size() == event["after"].MemberCount());
        for (const auto& c : columns.GetArray()) {
            const std::string name = str(c["name"]);
            INFO("column " << name);
            REQUIRE(event["after"].HasMember(name.c_str()));
            oracle.check(str(event["types"][name.c_str()]), c["value"],
                         event["after"][name.c_str()]);
        }
    }
    CHECK(oracle.lost == 3);  // row 2: float4 -Infinity, float8 NaN, numeric NaN
}
