// What each partition of a topic receives, for a consumer that applies partitions on their
// own: a tombstone after each deleted event (kafka.tombstones), a truncated event on every
// partition, and the contract version header on every record.
#include <map>
#include <set>

#include "support/capture_fixture.hpp"

using pgcs::testing::brokers;
using pgcs::testing::CaptureFixture;
using pgcs::testing::json_text;
using pgcs::testing::KafkaReader;
using pgcs::testing::parse_json;
using pgcs::testing::Record;

namespace {

std::string op_of(const Record& r) {
    return r.null_value ? "tombstone" : parse_json(r.value)["op"].GetString();
}

// Records of one partition in offset order, as "op key".
std::map<std::int32_t, std::vector<std::string>> by_partition(const std::vector<Record>& records) {
    std::map<std::int32_t, std::vector<std::pair<std::int64_t, std::string>>> sorted;
    for (const auto& r : records) {
        sorted[r.partition].emplace_back(r.offset, op_of(r) + " " + r.key.value_or("null"));
    }
    std::map<std::int32_t, std::vector<std::string>> out;
    for (auto& [p, rs] : sorted) {
        std::sort(rs.begin(), rs.end());
        for (auto& [offset, text] : rs) {
            out[p].push_back(text);
        }
    }
    return out;
}

int partition_count(const std::string& topic) {
    KafkaReader reader(brokers());
    return static_cast<int>(
        reader.watermarks(topic, std::chrono::steady_clock::now() + std::chrono::seconds(30))
            .size());
}

}  // namespace

TEST_CASE("a tombstone follows every deleted event, on its partition, by default") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} SELECT g, 'x' FROM generate_series(1, 8) g");
    fx.exec("DELETE FROM {table} WHERE id <= 4");
    auto records = fx.read(8 + 4 * 2);
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 16);
    std::size_t tombstones = 0;
    for (const auto& [partition, ops] : by_partition(records)) {
        INFO("partition " << partition);
        for (std::size_t i = 0; i < ops.size(); ++i) {
            if (ops[i].starts_with("deleted ")) {
                // The next record of the partition: same key, null value.
                REQUIRE(i + 1 < ops.size());
                CHECK(ops[i + 1] == "tombstone " + ops[i].substr(8));
            }
            if (ops[i].starts_with("tombstone ")) {
                ++tombstones;
                REQUIRE(i > 0);
                CHECK(ops[i - 1] == "deleted " + ops[i].substr(10));
            }
        }
    }
    CHECK(tombstones == 4);
    for (const auto& r : records) {
        if (r.null_value) {
            CHECK(r.value.empty());
            CHECK(r.key.has_value());
        }
    }
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("kafka.tombstones: false: deleted events without tombstones") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    fx.kafka_extra = "  tombstones: false\n";
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'a'), (2, 'b')");
    fx.exec("DELETE FROM {table}");
    KafkaReader reader(brokers());
    auto records = reader.read_all(fx.topic(), 4, std::chrono::seconds(3));
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 4);
    for (const auto& r : records) {
        CHECK_FALSE(r.null_value);
    }
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("a table without a key: deleted events have a null key and no tombstone") {
    CaptureFixture fx("CREATE TABLE {table} (v text); ALTER TABLE {table} REPLICA IDENTITY FULL");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES ('a')");
    fx.exec("DELETE FROM {table}");
    KafkaReader reader(brokers());
    auto records = reader.read_all(fx.topic(), 2, std::chrono::seconds(3));
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 2);
    for (const auto& r : records) {
        CHECK_FALSE(r.null_value);
        CHECK_FALSE(r.key.has_value());
    }
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("TRUNCATE: one truncated event on every partition of the table's topic") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id int PRIMARY KEY, v text); "
        "CREATE TABLE {table}_b (id int PRIMARY KEY)");
    fx.start_daemon_with_tables({"public." + fx.table(), "public." + fx.table() + "_b"});
    fx.exec("INSERT INTO {table} VALUES (1, 'a'); INSERT INTO {table}_b VALUES (1)");
    fx.exec("TRUNCATE {table}, {table}_b");
    KafkaReader reader(brokers());
    std::set<std::uint64_t> seqs;  // across both topics: the transaction's positions
    std::set<std::string> commits;
    for (const std::string suffix : {"", "_b"}) {
        const std::string topic = fx.topic() + suffix;
        INFO("topic " << topic);
        const int partitions = partition_count(topic);
        REQUIRE(partitions == 4);  // the dev broker's (and the test Kafka's) topics
        auto records = reader.read_all(topic, 1 + 4, std::chrono::seconds(3));
        INFO("daemon log:\n" << fx.daemon_log());
        REQUIRE(records.size() == 5);
        std::set<std::int32_t> truncated_on;
        for (const auto& r : records) {
            const auto doc = parse_json(r.value);
            if (std::string(doc["op"].GetString()) != "truncated") {
                continue;
            }
            CHECK_FALSE(r.key.has_value());
            CHECK(doc["key"].IsNull());
            CHECK(doc["before"].IsNull());
            CHECK(doc["after"].IsNull());
            CHECK(truncated_on.insert(r.partition).second);  // one per partition
            CHECK(seqs.insert(doc["seq"].GetUint64()).second);
            commits.insert(doc["commit_lsn"].GetString());
        }
        CHECK(truncated_on == std::set<std::int32_t>{0, 1, 2, 3});
    }
    CHECK(commits.size() == 1);                                      // one transaction
    CHECK(seqs == std::set<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7});  // each its own seq
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("TRUNCATE of a table whose topic does not exist yet: created, then every partition") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.start_daemon();
    fx.exec("TRUNCATE {table}");  // the topic's first records
    KafkaReader reader(brokers());
    auto records = reader.read_all(fx.topic(), 4, std::chrono::seconds(3));
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 4);
    std::set<std::int32_t> partitions;
    for (const auto& r : records) {
        CHECK(op_of(r) == "truncated");
        partitions.insert(r.partition);
    }
    CHECK(partitions.size() == 4);
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("every event says which contract it follows: \"contract\":2, its last field") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    fx.exec("INSERT INTO {table} VALUES (1, 'before the start')");  // a snapshot read
    fx.postgres_extra = "  messages: true\n";
    fx.extra_config = "snapshot:\n  mode: initial\n";
    fx.start_daemon();
    // The snapshot reads row 1 before the TRUNCATE below can empty the table under it.
    REQUIRE(fx.wait_for_log("snapshot of public." + fx.table() + " complete"));
    fx.exec("INSERT INTO {table} VALUES (2, 'a')");
    fx.exec("UPDATE {table} SET v = 'b' WHERE id = 2");
    fx.exec("UPDATE {table} SET id = 3 WHERE id = 2");
    fx.exec("DELETE FROM {table} WHERE id = 3");
    fx.exec("SELECT pg_logical_emit_message(true, 'test.audit', 'hello')");
    fx.exec("TRUNCATE {table}");
    // read, added, modified, deleted + tombstone + added, deleted + tombstone, 4 truncated
    auto records = fx.read(1 + 1 + 1 + 3 + 2 + 4);
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 12);
    KafkaReader reader(brokers());
    auto messages = reader.read(fx.prefix() + ".messages", 1);
    REQUIRE(messages.size() == 1);
    records.push_back(messages[0]);
    std::set<std::string> seen;
    for (const auto& r : records) {
        const std::string op = op_of(r);
        INFO(op << " " << r.key.value_or("null"));
        seen.insert(op);
        CHECK(r.headers.empty());
        if (op == "tombstone") {
            CHECK(r.null_value);
            continue;
        }
        CHECK(r.value.ends_with(",\"contract\":2}"));
        CHECK(parse_json(r.value)["contract"].GetInt() == 2);
    }
    CHECK(seen == std::set<std::string>{"read", "added", "modified", "deleted", "tombstone",
                                        "truncated", "message"});
    CHECK(fx.stop_daemon().exit_code == 0);
}
