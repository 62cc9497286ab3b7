// Tests for core/apply/history_version: the row a history version holds (unchanged TOAST
// merged from the previous version), `changed` computed from the previous version (JSON null vs
// SQL NULL, values spelled differently by jsonb), and the contract's history line.
#include "core/apply/history_version.hpp"

#include <catch2/catch.hpp>

using namespace pgcs::apply;

namespace {

const std::vector<ColumnType> kTypes = {
    {"id", "int8"}, {"name", "text"}, {"plan", "text"}, {"doc", "jsonb"}, {"big", "text"}};

JsonRow alice() {
    return {{"id", "42", false},
            {"name", "\"Alice\"", false},
            {"plan", "\"free\"", false},
            {"doc", "null", true},
            {"big", "\"xxxx\"", false}};
}

}  // namespace

TEST_CASE("an unchanged TOAST column is taken from the previous version", "[apply]") {
    const JsonRow previous = alice();
    const JsonRow after = {{"id", "42", false},
                           {"name", "\"Bob\"", false},
                           {"plan", "\"pro\"", false},
                           {"doc", "null", true}};
    const JsonRow merged = merge_unchanged_toast(after, {"big"}, &previous, kTypes);
    REQUIRE(merged.size() == 5);
    CHECK(merged[4] == JsonColumn{"big", "\"xxxx\"", false});
    CHECK(row_json(merged) == R"({"id":42,"name":"Bob","plan":"pro","doc":null,"big":"xxxx"})");
    // Without a previous version the value stays unknown: absent, never a made-up null.
    CHECK(merge_unchanged_toast(after, {"big"}, nullptr, kTypes).size() == 4);
    // A column `after` carries (REPLICA IDENTITY FULL fills it) is not replaced.
    JsonRow full = after;
    full.push_back({"big", "\"yyyy\"", false});
    CHECK(merge_unchanged_toast(full, {"big"}, &previous, kTypes)[4].json == "\"yyyy\"");
}

TEST_CASE("changed lists every column that differs from the previous version", "[apply]") {
    JsonRow bob = alice();
    bob[1].json = "\"Bob\"";
    bob[2].json = "\"pro\"";
    CHECK(changed_json(alice(), bob) ==
          R"({"name":{"old":"Alice","new":"Bob"},"plan":{"old":"free","new":"pro"}})");
    CHECK(changed_json(alice(), alice()) == "{}");
}

TEST_CASE("changed tells JSON null from SQL NULL and ignores jsonb's spelling", "[apply]") {
    JsonRow sql_null = alice();
    sql_null[3].json_null = false;  // doc: SQL NULL instead of JSON null
    CHECK(changed_json(alice(), sql_null) == R"({"doc":{"old":null,"new":null}})");
    JsonRow a = alice();
    JsonRow b = alice();
    a[3] = {"doc", R"({"a":1,"bb":[1,2]})", false};
    b[3] = {"doc", R"({"bb":[1,2],"a":1})", false};  // as jsonb stores it
    CHECK(changed_json(a, b) == "{}");
    // A column the new row lacks (TOAST nobody sent) is not a change; a new column is.
    JsonRow shorter = alice();
    shorter.pop_back();
    CHECK(changed_json(alice(), shorter) == "{}");
    JsonRow longer = alice();
    longer.push_back({"added", "7", false});
    CHECK(changed_json(alice(), longer) == R"({"added":{"old":null,"new":7}})");
}

TEST_CASE("a stored row and changed come back in column order", "[apply]") {
    const JsonRow row = parse_json_row(R"({"id": 42, "doc": null, "big": "x", "name": "A"})",
                                       {"doc"}, {"id", "name", "plan", "doc", "big"});
    CHECK(row_json(row) == R"({"id":42,"name":"A","doc":null,"big":"x"})");
    CHECK(json_null_columns(row) == std::vector<std::string>{"doc"});
    CHECK(format_changed(R"({"plan": {"new": "pro", "old": "free"}, "id": {"new": 1, "old": 2}})",
                         {"id", "plan"}) ==
          R"({"id":{"old":2,"new":1},"plan":{"old":"free","new":"pro"}})");
    CHECK_THROWS_AS(parse_json_row("[1]", {}, {}), EventError);
    CHECK(parse_name_list(R"(["a","b"])") == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a version is printed as the contract's history line", "[apply]") {
    HistoryVersion v;
    v.op = EventOp::Modified;
    v.commit_ts = "2026-11-23T10:00:00.123456Z";
    v.position = {pgcs::parse_lsn("0/16B3800").value(), 3};
    v.xid = 742;
    v.has_row = true;
    v.row = {{"id", "42", false}, {"na\"me", "\"Bob\"", false}};
    v.changed_json = R"({"na\"me":{"old":"Alice","new":"Bob"}})";
    CHECK(history_line(v) ==
          R"({"op":"modified","commit_ts":"2026-11-23T10:00:00.123456Z","commit_lsn":"0/16B3800",)"
          R"("seq":3,"xid":742,"row":{"id":42,"na\"me":"Bob"},)"
          R"("changed":{"na\"me":{"old":"Alice","new":"Bob"}}})");
    v.op = EventOp::Truncated;
    v.has_row = false;
    v.changed_json.clear();
    CHECK_THAT(history_line(v), Catch::EndsWith(R"("xid":742,"row":null,"changed":null})"));
}

TEST_CASE("a terminal gets when, op and old -> new", "[apply]") {
    HistoryVersion added;
    added.op = EventOp::Added;
    added.commit_ts = "2026-11-23T10:00:00.000001Z";
    added.has_row = true;
    added.row = {{"id", "42", false}, {"plan", "\"free\"", false}};
    HistoryVersion modified = added;
    modified.op = EventOp::Modified;
    modified.changed_json = R"({"plan":{"old":"free","new":"pro"}})";
    const std::string text = history_table({added, modified});
    CHECK_THAT(text, Catch::StartsWith("2026-11-23T10:00:00.000001Z  added  (commit_lsn 0/0"));
    CHECK_THAT(text, Catch::Contains("    plan = \"free\"\n"));
    CHECK_THAT(text, Catch::Contains("  modified  "));
    CHECK_THAT(text, Catch::EndsWith("    plan: \"free\" -> \"pro\"\n"));
}
