// kafka.format: debezium end to end: what the daemon writes to Kafka for an INSERT, an UPDATE,
// a key change, a DELETE and a TRUNCATE is Debezium's envelope (op c/u/d, tombstones, the key
// struct), with and without JsonConverter's schemas; truncates are skipped by default, as
// Debezium's skipped.operations=t does. (Debezium itself compares record by record in the
// `peers` test tests/peers/debezium_oracle_test.sh.)
#include <map>

#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::json_text;
using pgcs::testing::parse_json;
using pgcs::testing::Record;

namespace {

// The records of each key, in partition offset order ("null" for a tombstone's value).
std::map<std::string, std::vector<std::string>> by_key(const std::vector<Record>& records) {
    std::vector<Record> sorted = records;
    std::sort(sorted.begin(), sorted.end(), [](const Record& a, const Record& b) {
        return std::make_pair(a.partition, a.offset) < std::make_pair(b.partition, b.offset);
    });
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& r : sorted) {
        out[r.key.value_or("null")].push_back(r.null_value ? "null" : r.value);
    }
    return out;
}

}  // namespace

TEST_CASE("debezium format: c, u, d with tombstone, a key change, skipped truncate") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, name text, price numeric(10,2))");
    fx.kafka_extra = "  format: debezium\n";
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'a', 1.50), (2, 'b', 2.00)");
    fx.exec("UPDATE {table} SET name = 'a2' WHERE id = 1");
    fx.exec("DELETE FROM {table} WHERE id = 2");
    fx.exec("UPDATE {table} SET id = 3 WHERE id = 1");
    fx.exec("TRUNCATE {table}");
    fx.exec("INSERT INTO {table} VALUES (9, 'last', NULL)");
    // 2 c + u + d + tombstone + (d + tombstone + c) + c
    const auto records = fx.read(9);
    REQUIRE(records.size() == 9);
    auto keys = by_key(records);
    REQUIRE(keys.size() == 4);  // {"id":1}, 2, 3, 9: no truncate (null key) record
    const auto& one = keys[R"({"id":1})"];
    REQUIRE(one.size() == 4);
    auto c = parse_json(one[0]);
    CHECK(std::string(c["op"].GetString()) == "c");
    CHECK(json_text(c["before"]) == "null");
    CHECK(json_text(c["after"]) == R"({"id":1,"name":"a","price":"AJY="})");
    CHECK(std::string(c["source"]["connector"].GetString()) == "postgresql");
    CHECK(std::string(c["source"]["name"].GetString()) == fx.prefix());
    CHECK(std::string(c["source"]["table"].GetString()) == fx.table());
    CHECK(std::string(c["source"]["snapshot"].GetString()) == "false");
    CHECK(std::string(c["source"]["db"].GetString()).size() > 0);
    CHECK(c["source"]["txId"].IsInt64());
    CHECK(c["source"]["lsn"].IsInt64());
    CHECK(c["ts_ms"].GetInt64() >= c["source"]["ts_ms"].GetInt64());
    auto u = parse_json(one[1]);
    CHECK(std::string(u["op"].GetString()) == "u");
    CHECK(json_text(u["before"]) == "null");  // REPLICA IDENTITY DEFAULT
    CHECK(json_text(u["after"]) == R"({"id":1,"name":"a2","price":"AJY="})");
    auto kd = parse_json(one[2]);  // the key change's delete, its tombstone
    CHECK(std::string(kd["op"].GetString()) == "d");
    CHECK(json_text(kd["before"]) == R"({"id":1,"name":null,"price":null})");
    CHECK(one[3] == "null");
    const auto& two = keys[R"({"id":2})"];
    REQUIRE(two.size() == 3);
    CHECK(std::string(parse_json(two[1])["op"].GetString()) == "d");
    CHECK(two[2] == "null");
    const auto& three = keys[R"({"id":3})"];
    REQUIRE(three.size() == 1);
    auto kc = parse_json(three[0]);
    CHECK(std::string(kc["op"].GetString()) == "c");
    CHECK(json_text(kc["before"]) == "null");
    CHECK(json_text(kc["after"]) == R"({"id":3,"name":"a2","price":"AJY="})");
    CHECK(kc["source"]["lsn"].GetInt64() > 0);
    REQUIRE(keys[R"({"id":9})"].size() == 1);
}

TEST_CASE("debezium format with schemas: key and value in JsonConverter's schema + payload") {
    CaptureFixture fx("CREATE TABLE {table} (id int8 PRIMARY KEY, at timestamptz, doc jsonb)");
    fx.kafka_extra =
        "  format: debezium\n  schemas: true\n  debezium:\n    skipped.operations: none\n";
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (5, '2026-11-23 10:00:00.5+00', '{\"a\": 1}')");
    fx.exec("TRUNCATE {table}");
    // The insert, and the truncate on every partition of the topic.
    const auto records = fx.read(1000, std::chrono::seconds(10));
    REQUIRE(records.size() >= 2);
    const Record* insert = nullptr;
    const Record* truncate = nullptr;
    for (const auto& r : records) {
        (r.key ? insert : truncate) = &r;
    }
    CHECK(records.size() == 1 + static_cast<std::size_t>(std::count_if(
                                    records.begin(), records.end(),
                                    [](const Record& r) { return !r.key && !r.null_value; })));
    REQUIRE(insert != nullptr);
    REQUIRE(truncate != nullptr);
    auto key = parse_json(*insert->key);
    CHECK(std::string(key["schema"]["name"].GetString()) == fx.topic() + ".Key");
    CHECK(json_text(key["payload"]) == R"({"id":5})");
    auto v = parse_json(insert->value);
    CHECK(std::string(v["schema"]["name"].GetString()) == fx.topic() + ".Envelope");
    const auto& p = v["payload"];
    CHECK(std::string(p["op"].GetString()) == "c");
    CHECK(std::string(p["after"]["at"].GetString()) == "2026-11-23T10:00:00.500000Z");
    CHECK(std::string(p["after"]["doc"].GetString()) == R"({"a": 1})");
    auto t = parse_json(truncate->value);
    CHECK(std::string(t["payload"]["op"].GetString()) == "t");
    CHECK(json_text(t["payload"]["after"]) == "null");
}
