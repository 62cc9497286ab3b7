// Tests for core/apply/sink_event: contract v2 values parsed for the sink, JSON null vs SQL
// NULL, arrays and hstore as PostgreSQL input text, and every malformed value refused.
#include "core/apply/sink_event.hpp"

#include <catch2/catch.hpp>
#include <string>

using pgcs::parse_lsn;
using namespace pgcs::apply;

namespace {

const std::string kModified =
    R"({"op":"modified","schema":"public","table":"users","key":{"id":42},)"
    R"("before":null,"after":{"id":42,"name":"Bob","doc":null,"other":null,"tags":["a","b\"",null],)"
    R"("big":9007199254740993,"f":-0.0,"h":{"k":"v","n":null}},"changed":null,)"
    R"("unchanged_toast":["blob"],"types":{"id":"int8","name":"text","doc":"jsonb","other":"jsonb",)"
    R"("tags":"_text","big":"int8","f":"float8","h":"hstore","blob":"text"},)"
    R"("json_null":{"after":["doc"]},"commit_ts":"2026-11-23T10:00:00.123456Z",)"
    R"("captured_ts":"2026-11-23T10:00:00.125001Z","xid":742,"lsn":"0/16B3748",)"
    R"("commit_lsn":"1/16B3800","seq":3,"contract":2})";

}  // namespace

TEST_CASE("a modified event parses into columns, types and position", "[apply]") {
    const SinkEvent e = parse_sink_event(kModified);
    CHECK(e.op == EventOp::Modified);
    CHECK(e.schema == "public");
    CHECK(e.table == "users");
    REQUIRE(e.key.size() == 1);
    CHECK(e.key[0] == ColumnValue{"id", "42", false});
    CHECK_FALSE(e.has_before);
    REQUIRE(e.after.size() == 8);
    CHECK(e.after[2] == ColumnValue{"doc", "null", false});  // JSON null: json_null names it
    CHECK(e.after[3] == ColumnValue{"other", "", true});     // SQL NULL
    CHECK(e.after[4].text == R"({"a","b\"",NULL})");
    CHECK(e.after[5].text == "9007199254740993");
    CHECK(e.after[6].text == "-0.0");
    CHECK(e.after[7].text == R"("k"=>"v", "n"=>NULL)");
    CHECK(e.types.size() == 9);
    CHECK(e.types[4] == ColumnType{"tags", "_text"});
    CHECK(e.unchanged_toast == std::vector<std::string>{"blob"});
    CHECK(e.position == EventPosition{0x1016B3800ULL, 3});
    CHECK(e.xid == 742);
    CHECK(e.commit_ts == "2026-11-23T10:00:00.123456Z");
}

TEST_CASE("positions order by commit_lsn as a number, then seq", "[apply]") {
    CHECK(parse_lsn("0/0") == 0U);
    CHECK(parse_lsn("A/1") == 0xA00000001ULL);
    CHECK(parse_lsn("0/FFFFFFFF") < parse_lsn("1/0"));
    CHECK_FALSE(parse_lsn("x"));
    CHECK_FALSE(parse_lsn("1/"));
    CHECK_FALSE(parse_lsn("/1"));
    CHECK_FALSE(parse_lsn("1/2/3"));
    CHECK(EventPosition{1, 9} < EventPosition{2, 0});
    CHECK(EventPosition{2, 0} < EventPosition{2, 1});
}

TEST_CASE("truncated and deleted events", "[apply]") {
    const SinkEvent t = parse_sink_event(
        R"({"op":"truncated","schema":"s","table":"t","key":null,"before":null,"after":null,)"
        R"("types":{},"commit_lsn":"0/10","seq":0,"xid":1,"contract":2})");
    CHECK(t.op == EventOp::Truncated);
    CHECK(t.key.empty());
    const SinkEvent d = parse_sink_event(
        R"({"op":"deleted","schema":"s","table":"t","key":{"a":"x","b":2},"before":{"a":"x","b":2},)"
        R"("after":null,"types":{"a":"text","b":"int4"},"commit_lsn":"0/10","seq":1,"contract":2})");
    CHECK(d.op == EventOp::Deleted);
    CHECK(d.key.size() == 2);
    CHECK(d.has_before);
    CHECK(d.after.empty());
}

TEST_CASE("values that are not contract v2 events are refused with the reason", "[apply]") {
    auto refused = [](const std::string& value, const std::string& reason) {
        INFO(value);
        CHECK_THROWS_WITH(parse_sink_event(value), Catch::Contains(reason));
    };
    refused("not json", "not a JSON object");
    refused("[1]", "not a JSON object");
    refused(R"({"op":"added"})", "contract 2");
    refused(R"({"payload":{},"schema":{}})", "Debezium");
    const std::string good =
        R"({"op":"added","schema":"s","table":"t","key":{"a":1},"before":null,"after":{"a":1},)"
        R"("types":{"a":"int4"},"commit_lsn":"0/10","seq":1,"contract":2})";
    CHECK_NOTHROW(parse_sink_event(good));
    auto with = [&](const std::string& from, const std::string& to) {
        std::string v = good;
        v.replace(v.find(from), from.size(), to);
        return v;
    };
    refused(with(R"("op":"added")", R"("op":"inserted")"), "unknown op 'inserted'");
    refused(with(R"("key":{"a":1})", R"("key":null)"), "has no key");
    refused(with(R"("after":{"a":1})", R"("after":null)"), "'after' is not an object");
    refused(with(R"("commit_lsn":"0/10")", R"("commit_lsn":"16")"), "not an LSN");
    refused(with(R"("seq":1)", R"("seq":-1)"), "'seq' is not a whole number");
    refused(with(R"("table":"t",)", ""), "'table' is missing");
    refused(with(R"("types":{"a":"int4"})", R"("types":[])"), "'types' is not an object");
}

TEST_CASE("an event keeps its images as JSON for history mode", "[apply]") {
    const SinkEvent e = parse_sink_event(kModified);
    CHECK(e.key_json == R"({"id":42})");
    REQUIRE(e.after_json.size() == 8);
    CHECK(e.after_json[1] == JsonColumn{"name", "\"Bob\"", false});
    CHECK(e.after_json[2] == JsonColumn{"doc", "null", true});     // JSON null
    CHECK(e.after_json[3] == JsonColumn{"other", "null", false});  // SQL NULL
    CHECK(e.after_json[5].json == "9007199254740993");
    CHECK(e.before_json.empty());
}
