// JSON null and SQL NULL end to end: a json/jsonb column holding the JSON literal null is listed
// in the event's "json_null" field (per image, in column order), SQL NULL is not, and an event
// with neither has no such field; in text and binary mode, and for snapshot `read` events.
#include <map>
#include <utility>

#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::parse_json;
using pgcs::testing::Record;

namespace {

constexpr const char* kTable =
    "CREATE TABLE {table} (id int PRIMARY KEY, j jsonb, k json, note text); "
    "ALTER TABLE {table} REPLICA IDENTITY FULL";

// The raw text of a top-level field's value as the daemon wrote it ("" when absent): the native
// format writes its fields in a fixed order, so a value ends where the next field starts.
std::string raw_field(const std::string& value, const std::string& field) {
    if (!parse_json(value).HasMember(field.c_str())) {
        return "";
    }
    static const std::map<std::string, std::string> kNext = {{"before", "after"},
                                                             {"after", "changed"},
                                                             {"changed", "unchanged_toast"},
                                                             {"json_null", "commit_ts"}};
    const std::string open = "\"" + field + "\":";
    const auto from = value.find(open);
    const auto to = value.find(",\"" + kNext.at(field) + "\":", from);
    REQUIRE(from != std::string::npos);
    REQUIRE(to != std::string::npos);
    return value.substr(from + open.size(), to - from - open.size());
}

// Events by (op, id), the id read from after, else before.
std::map<std::pair<std::string, int>, std::string> by_op_and_id(const std::vector<Record>& rs) {
    std::map<std::pair<std::string, int>, std::string> out;
    for (const auto& r : rs) {
        if (r.null_value) {
            continue;  // a deleted event's tombstone
        }
        const auto doc = parse_json(r.value);
        const auto& row = doc["after"].IsNull() ? doc["before"] : doc["after"];
        out[{doc["op"].GetString(), row["id"].GetInt()}] = r.value;
    }
    return out;
}

}  // namespace

TEST_CASE("JSON null and SQL NULL are told apart by json_null, in text and binary mode") {
    CaptureFixture text_fx(kTable);
    CaptureFixture binary_fx(kTable);
    binary_fx.postgres_extra = "  binary: true\n";
    text_fx.start_daemon();
    binary_fx.start_daemon();
    for (CaptureFixture* fx : {&text_fx, &binary_fx}) {
        fx->exec("INSERT INTO {table} VALUES (1, 'null'::jsonb, NULL, 'a')");
        fx->exec("INSERT INTO {table} VALUES (2, NULL, NULL, 'null')");
        fx->exec("INSERT INTO {table} VALUES (3, '{\"a\": null}', ' null ', 'c')");
        fx->exec("UPDATE {table} SET j = NULL WHERE id = 1");
        fx->exec("UPDATE {table} SET j = 'null' WHERE id = 2");
        fx->exec("DELETE FROM {table} WHERE id = 3");
    }
    // Six events and the delete's tombstone.
    const auto text = by_op_and_id(text_fx.read(7));
    const auto binary = by_op_and_id(binary_fx.read(7));
    INFO("text daemon log:\n" << text_fx.daemon_log());
    INFO("binary daemon log:\n" << binary_fx.daemon_log());
    REQUIRE(text.size() == 6);
    REQUIRE(binary.size() == 6);

    for (const auto* events : {&text, &binary}) {
        INFO((events == &text ? "text mode" : "binary mode"));
        auto event = [&](const char* op, int id) -> const std::string& {
            INFO(op << " " << id);
            REQUIRE(events->count({op, id}) == 1);
            return events->at({op, id});
        };
        // JSON null in jsonb: listed; the value itself is null, as for SQL NULL.
        const std::string& added1 = event("added", 1);
        CHECK(raw_field(added1, "after") == R"({"id":1,"j":null,"k":null,"note":"a"})");
        CHECK(raw_field(added1, "json_null") == R"({"before":[],"after":["j"]})");
        // SQL NULL only (and the text "null"): no field at all.
        const std::string& added2 = event("added", 2);
        CHECK(raw_field(added2, "after") == R"({"id":2,"j":null,"k":null,"note":"null"})");
        CHECK(added2.find("json_null") == std::string::npos);
        // json keeps its spacing but ' null ' is the JSON null; null inside a value is not.
        CHECK(raw_field(event("added", 3), "json_null") == R"({"before":[],"after":["k"]})");
        // FULL identity: JSON null -> SQL NULL, and SQL NULL -> JSON null; changed lists both.
        const std::string& modified1 = event("modified", 1);
        CHECK(raw_field(modified1, "before") == R"({"id":1,"j":null,"k":null,"note":"a"})");
        CHECK(raw_field(modified1, "after") == R"({"id":1,"j":null,"k":null,"note":"a"})");
        CHECK(raw_field(modified1, "changed") == R"(["j"])");
        CHECK(raw_field(modified1, "json_null") == R"({"before":["j"],"after":[]})");
        const std::string& modified2 = event("modified", 2);
        CHECK(raw_field(modified2, "changed") == R"(["j"])");
        CHECK(raw_field(modified2, "json_null") == R"({"before":[],"after":["j"]})");
        // The whole old row of a delete under FULL.
        const std::string& deleted3 = event("deleted", 3);
        CHECK(raw_field(deleted3, "before") == R"({"id":3,"j":{"a": null},"k":null,"note":"c"})");
        CHECK(raw_field(deleted3, "json_null") == R"({"before":["k"],"after":[]})");
    }
    // Both modes give the same images and json_null.
    for (const auto& [id, value] : text) {
        INFO(id.first << " " << id.second);
        REQUIRE(binary.count(id) == 1);
        for (const char* field : {"before", "after", "changed", "json_null"}) {
            CHECK(raw_field(binary.at(id), field) == raw_field(value, field));
        }
    }
}

TEST_CASE("snapshot read events list JSON-null columns the same way", "[snapshot]") {
    CaptureFixture fx(kTable);
    fx.exec(
        "INSERT INTO {table} VALUES (1, 'null', 'null', 'x'), (2, NULL, NULL, 'y'), "
        "(3, '[null]', NULL, 'z')");
    fx.extra_config = "snapshot:\n  mode: initial\n";
    fx.start_daemon();
    const auto events = by_op_and_id(fx.read(3));
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(events.size() == 3);
    REQUIRE(events.count({"read", 1}) == 1);
    REQUIRE(events.count({"read", 2}) == 1);
    REQUIRE(events.count({"read", 3}) == 1);
    const std::string& read1 = events.at({"read", 1});
    CHECK(raw_field(read1, "after") == R"({"id":1,"j":null,"k":null,"note":"x"})");
    CHECK(raw_field(read1, "json_null") == R"({"before":[],"after":["j","k"]})");
    CHECK(events.at({"read", 2}).find("json_null") == std::string::npos);
    CHECK(events.at({"read", 3}).find("json_null") == std::string::npos);
}
