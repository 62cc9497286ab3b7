// Every type of the contract's table, end to end: a wide table with ordinary, edge and NULL
// rows is captured twice, in text mode and in binary mode, and both must give byte-for-byte the
// same `after`; selected values are checked against the contract's forms; and wal2json, an
// independent decoder, must see the same values in the same WAL.
#include <openssl/evp.h>

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
        pg.exec("CREATE EXTENSION IF NOT EXISTS hstore; CREATE EXTENSION IF NOT EXISTS citext");
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

TEST_CASE("every type: text and binary mode give the same JSON, in the contract's forms") {
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
    has(2, "\"c_float8a\":[\"NaN\",\"Infinity\",-0,1e+300,5e-324]");
    has(2, "\"c_hstore\":{\"e\":\"\",\"a b\":\"c\\\"d\"}");  // hstore's own key order
    has(3, "\"c_int8\":-9223372036854775808");
    has(3, "\"c_numeric\":\"123456789012345678901234567890.123456789\"");
    has(3, "\"c_float4\":1e-05,\"c_float8\":1e+15");
    has(4, "{\"id\":4,\"c_bool\":null,");
    has(4, "\"c_char\":null}");
}
