// End to end: rows changed in PostgreSQL arrive in Kafka as the contract's changesets.
#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::parse_json;
using pgcs::testing::Record;

namespace {

std::uint64_t lsn_value(const std::string& text) {
    unsigned hi = 0;
    unsigned lo = 0;
    REQUIRE(std::sscanf(text.c_str(), "%X/%X", &hi, &lo) == 2);
    return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

struct Event {
    Record record;
    rapidjson::Document doc;
    std::string field(const char* name) const { return pgcs::testing::json_text(doc[name]); }
    std::string str(const char* name) const { return doc[name].GetString(); }
    std::uint64_t commit_lsn() const { return lsn_value(str("commit_lsn")); }
    std::uint64_t seq() const { return doc["seq"].GetUint64(); }
};

// Parses records and sorts them by (commit_lsn, seq): the order PostgreSQL committed them.
// Tombstones (null values, after deleted events) are left out: they are not events.
std::vector<Event> events_in_commit_order(const std::vector<Record>& records) {
    std::vector<Event> events;
    for (const auto& r : records) {
        if (!r.null_value) {
            events.push_back({r, parse_json(r.value)});
        }
    }
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
        return std::make_pair(a.commit_lsn(), a.seq()) < std::make_pair(b.commit_lsn(), b.seq());
    });
    return events;
}

const std::regex kTimestamp(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
const std::regex kLsn(R"([0-9A-F]+/[0-9A-F]+)");

}  // namespace

TEST_CASE("insert, update and delete under REPLICA IDENTITY DEFAULT", "[pgmatrix]") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id bigint PRIMARY KEY, name text, amount numeric(12,2), "
        "ok bool, tags text[], doc jsonb, ts timestamptz)");
    fx.start_daemon();
    fx.exec(
        "INSERT INTO {table} VALUES (42, 'Alice', 1234.50, true, '{a,\"b c\",NULL}', "
        "'{\"x\": [1, 2]}', '2026-11-23 13:45:00.123456+02')");
    fx.exec("UPDATE {table} SET name = 'Bob' WHERE id = 42");
    fx.exec("UPDATE {table} SET id = 43 WHERE id = 42");
    fx.exec("DELETE FROM {table} WHERE id = 43");

    // added, modified, the key change (deleted + tombstone, added), deleted + tombstone
    const auto records = fx.read(7);
    auto events = events_in_commit_order(records);
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(events.size() == 5);
    std::vector<std::string> tombstones;
    for (const auto& r : records) {
        if (r.null_value) {
            tombstones.push_back(r.key.value_or("null"));
        }
    }
    std::sort(tombstones.begin(), tombstones.end());
    CHECK(tombstones == std::vector<std::string>{"{\"id\":42}", "{\"id\":43}"});

    const Event& added = events[0];
    CHECK(added.str("op") == "added");
    CHECK(added.str("schema") == "public");
    CHECK(added.str("table") == fx.table());
    CHECK(added.record.key == std::optional<std::string>("{\"id\":42}"));
    CHECK(added.field("key") == "{\"id\":42}");
    CHECK(added.field("before") == "null");
    CHECK(added.field("after") ==
          "{\"id\":42,\"name\":\"Alice\",\"amount\":\"1234.50\",\"ok\":true,"
          "\"tags\":[\"a\",\"b c\",null],\"doc\":{\"x\":[1,2]},"
          "\"ts\":\"2026-11-23T11:45:00.123456Z\"}");
    CHECK(added.field("changed") == "null");
    CHECK(added.field("unchanged_toast") == "[]");
    CHECK(added.field("types") ==
          "{\"id\":\"int8\",\"name\":\"text\",\"amount\":\"numeric\",\"ok\":\"bool\","
          "\"tags\":\"_text\",\"doc\":\"jsonb\",\"ts\":\"timestamptz\"}");
    CHECK(std::regex_match(added.str("commit_ts"), kTimestamp));
    CHECK(std::regex_match(added.str("captured_ts"), kTimestamp));
    CHECK(added.str("captured_ts") >= added.str("commit_ts"));
    CHECK(std::regex_match(added.str("lsn"), kLsn));
    CHECK(added.doc["xid"].IsUint());
    CHECK(added.seq() == 0);

    const Event& renamed = events[1];
    CHECK(renamed.str("op") == "modified");
    CHECK(renamed.field("before") == "null");  // DEFAULT: no old row unless the key changed
    CHECK(renamed.doc["after"]["name"].GetString() == std::string("Bob"));
    CHECK(renamed.field("changed") == "null");
    CHECK(renamed.record.key == std::optional<std::string>("{\"id\":42}"));

    // The key change: deleted under the old key, then added under the new one.
    const Event& old_key = events[2];
    CHECK(old_key.str("op") == "deleted");
    CHECK(old_key.field("before") == "{\"id\":42}");  // the old key only
    CHECK(old_key.field("after") == "null");
    CHECK(old_key.record.key == std::optional<std::string>("{\"id\":42}"));
    const Event& rekeyed = events[3];
    CHECK(rekeyed.str("op") == "added");
    CHECK(rekeyed.field("before") == "{\"id\":42}");  // the old key: the half of a key change
    CHECK(rekeyed.field("key") == "{\"id\":43}");     // the event goes under the new key
    CHECK(rekeyed.record.key == std::optional<std::string>("{\"id\":43}"));
    CHECK(rekeyed.doc["after"]["name"].GetString() == std::string("Bob"));  // the whole row
    CHECK(rekeyed.str("commit_lsn") == old_key.str("commit_lsn"));
    CHECK(rekeyed.seq() == old_key.seq() + 1);

    const Event& deleted = events[4];
    CHECK(deleted.str("op") == "deleted");
    CHECK(deleted.field("before") == "{\"id\":43}");  // key columns only, no fake NULLs
    CHECK(deleted.field("after") == "null");
    CHECK(deleted.record.key == std::optional<std::string>("{\"id\":43}"));

    // Transactions committed one after another: distinct, increasing commit LSNs (the key
    // change's two events share theirs).
    for (std::size_t i = 1; i < events.size(); ++i) {
        if (i == 3) {
            CHECK(events[i].commit_lsn() == events[i - 1].commit_lsn());
        } else {
            CHECK(events[i].commit_lsn() > events[i - 1].commit_lsn());
        }
    }
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("insert, update and delete under REPLICA IDENTITY FULL", "[pgmatrix]") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id int PRIMARY KEY, name text, plan text); "
        "ALTER TABLE {table} REPLICA IDENTITY FULL");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'Alice', 'free')");
    fx.exec("UPDATE {table} SET name = 'Bob' WHERE id = 1");
    fx.exec("DELETE FROM {table} WHERE id = 1");

    auto events = events_in_commit_order(fx.read(4));  // and the delete's tombstone
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(events.size() == 3);
    CHECK(events[0].str("op") == "added");
    CHECK(events[0].field("key") == "{\"id\":1}");  // the primary key, not every column

    const Event& modified = events[1];
    CHECK(modified.str("op") == "modified");
    CHECK(modified.field("key") == "{\"id\":1}");
    CHECK(modified.record.key == std::optional<std::string>("{\"id\":1}"));
    CHECK(modified.field("before") == "{\"id\":1,\"name\":\"Alice\",\"plan\":\"free\"}");
    CHECK(modified.field("after") == "{\"id\":1,\"name\":\"Bob\",\"plan\":\"free\"}");
    CHECK(modified.field("changed") == "[\"name\"]");

    const Event& deleted = events[2];
    CHECK(deleted.str("op") == "deleted");
    CHECK(deleted.field("before") == "{\"id\":1,\"name\":\"Bob\",\"plan\":\"free\"}");
    CHECK(deleted.field("after") == "null");
    CHECK(deleted.field("key") == "{\"id\":1}");
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("several changes in one transaction share commit_lsn and xid, seq counts from 0",
          "[pgmatrix]") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    fx.start_daemon();
    fx.exec(
        "BEGIN; INSERT INTO {table} VALUES (1, 'a'); INSERT INTO {table} VALUES (2, 'b'); "
        "UPDATE {table} SET v = 'c' WHERE id = 1; DELETE FROM {table} WHERE id = 2; COMMIT");
    auto events = events_in_commit_order(fx.read(5));  // and the delete's tombstone, no seq
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(events.size() == 4);
    std::vector<std::string> ops;
    for (std::size_t i = 0; i < events.size(); ++i) {
        CHECK(events[i].seq() == i);
        CHECK(events[i].str("commit_lsn") == events[0].str("commit_lsn"));
        CHECK(events[i].doc["xid"].GetUint() == events[0].doc["xid"].GetUint());
        CHECK(events[i].str("commit_ts") == events[0].str("commit_ts"));
        CHECK(lsn_value(events[i].str("lsn")) < events[i].commit_lsn());
        ops.push_back(events[i].str("op"));
    }
    CHECK(ops == std::vector<std::string>{"added", "added", "modified", "deleted"});
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("a rolled-back transaction publishes nothing") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    fx.start_daemon();
    fx.exec("BEGIN; INSERT INTO {table} VALUES (1, 'rolled back'); ROLLBACK");
    fx.exec(
        "BEGIN; INSERT INTO {table} VALUES (2, 'savepoint'); SAVEPOINT s; "
        "INSERT INTO {table} VALUES (3, 'rolled back to savepoint'); ROLLBACK TO s; COMMIT");
    fx.exec("INSERT INTO {table} VALUES (4, 'committed')");
    // Read beyond the two expected events for a while: nothing else may arrive.
    auto records = fx.read(3, std::chrono::seconds(8));
    INFO("daemon log:\n" << fx.daemon_log());
    auto events = events_in_commit_order(records);
    REQUIRE(events.size() == 2);
    CHECK(events[0].field("key") == "{\"id\":2}");
    CHECK(events[1].field("key") == "{\"id\":4}");
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("events of one key land in one partition, in commit order") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, n int)");
    fx.start_daemon();
    constexpr int kKeys = 12;
    constexpr int kRounds = 10;
    fx.exec("INSERT INTO {table} SELECT g, 0 FROM generate_series(1, " + std::to_string(kKeys) +
            ") g");
    for (int round = 1; round <= kRounds; ++round) {
        fx.exec("UPDATE {table} SET n = " + std::to_string(round));
    }
    const std::size_t expected = kKeys * (kRounds + 1);
    auto records = fx.read(expected);
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == expected);
    std::map<std::string, std::int32_t> partition_of;
    std::map<std::string, int> last_n;
    std::set<std::int32_t> partitions_used;
    // Records come partition by partition in offset order: within a key, n must increase.
    for (const auto& r : records) {
        REQUIRE(r.key.has_value());
        auto doc = parse_json(r.value);
        auto [it, fresh] = partition_of.emplace(*r.key, r.partition);
        CHECK(it->second == r.partition);
        const int n = doc["after"]["n"].GetInt();
        if (!fresh) {
            CHECK(n == last_n[*r.key] + 1);
        }
        last_n[*r.key] = n;
        partitions_used.insert(r.partition);
    }
    CHECK(partition_of.size() == kKeys);
    CHECK(partitions_used.size() > 1);  // keys are spread, so the check above means something
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("confirmed_flush_lsn reaches the last published commit") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1)");
    fx.exec("INSERT INTO {table} VALUES (2)");
    auto events = events_in_commit_order(fx.read(2));
    REQUIRE(events.size() == 2);
    const std::uint64_t last_commit = events.back().commit_lsn();
    const bool reached = fx.pg().wait_for(
        "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + fx.slot() +
            "'",
        [&](const std::string& v) { return !v.empty() && lsn_value(v) >= last_commit; });
    INFO("daemon log:\n" << fx.daemon_log());
    CHECK(reached);
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("stop with SIGTERM, change rows while stopped, restart: nothing lost", "[pgmatrix]") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'before stop')");
    REQUIRE(fx.read(1).size() == 1);
    auto stopped = fx.stop_daemon(SIGTERM);
    INFO("first run log:\n" << stopped.log);
    CHECK(stopped.exit_code == 0);

    fx.exec("INSERT INTO {table} VALUES (2, 'while stopped')");
    fx.exec("UPDATE {table} SET v = 'changed while stopped' WHERE id = 1");
    fx.exec("DELETE FROM {table} WHERE id = 2");

    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (3, 'after restart')");
    auto records = fx.read(6);  // and the delete's tombstone
    INFO("daemon log:\n" << fx.daemon_log());
    auto events = events_in_commit_order(records);
    // Exactly once here: SIGTERM acknowledged what Kafka had, so nothing is repeated.
    REQUIRE(events.size() == 5);
    std::vector<std::string> seen;
    for (const auto& e : events) {
        seen.push_back(e.str("op") + " " + e.field("key"));
    }
    CHECK(seen == std::vector<std::string>{"added {\"id\":1}", "added {\"id\":2}",
                                           "modified {\"id\":1}", "deleted {\"id\":2}",
                                           "added {\"id\":3}"});
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("domains, enums and arrays of domains are named as such and typed as their base",
          "[pgmatrix]") {
    CaptureFixture fx(
        "CREATE DOMAIN {table}_qty AS numeric(10,2) CHECK (VALUE >= 0); "
        "CREATE TYPE {table}_mood AS ENUM ('sad', 'happy'); "
        "CREATE TABLE {table} (id int PRIMARY KEY, q {table}_qty, m {table}_mood, "
        "qs {table}_qty[], big int8, f float8, b bytea, i interval)");
    fx.start_daemon();
    fx.exec(
        "INSERT INTO {table} VALUES (1, 12.50, 'happy', '{1.5,NULL}', 9007199254740993, "
        "'NaN', '\\x00ff10', '1 year 2 months 3 days 04:05:06.5')");
    auto events = events_in_commit_order(fx.read(1));
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(events.size() == 1);
    const std::string t = fx.table();
    CHECK(events[0].field("types") ==
          "{\"id\":\"int4\",\"q\":\"" + t + "_qty\",\"m\":\"" + t + "_mood\",\"qs\":\"_" + t +
              "_qty\",\"big\":\"int8\",\"f\":\"float8\",\"b\":\"bytea\",\"i\":\"interval\"}");
    // The raw record, not re-serialised: int8 beyond 2^53 keeps every digit.
    CHECK(
        events[0].record.value.find(
            "\"after\":{\"id\":1,\"q\":\"12.50\",\"m\":\"happy\",\"qs\":[\"1.50\",null],"
            "\"big\":9007199254740993,\"f\":\"NaN\",\"b\":\"AP8Q\",\"i\":\"P1Y2M3DT4H5M6.5S\"}") !=
        std::string::npos);
    fx.exec("DROP TABLE {table}; DROP DOMAIN {table}_qty; DROP TYPE {table}_mood");
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("TRUNCATE publishes a truncated event with a null key on every partition", "[pgmatrix]") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'a'), (2, 'b')");
    fx.exec("TRUNCATE {table}");
    auto records = fx.read(2 + 4);  // the dev broker's and the test Kafka's topics have 4
    INFO("daemon log:\n" << fx.daemon_log());
    auto events = events_in_commit_order(records);
    REQUIRE(events.size() == 6);
    std::set<std::int32_t> partitions;
    for (std::size_t i = 2; i < events.size(); ++i) {
        const Event& t = events[i];
        CHECK(t.str("op") == "truncated");
        CHECK_FALSE(t.record.key.has_value());  // a null Kafka key
        CHECK(t.field("key") == "null");
        CHECK(t.field("before") == "null");
        CHECK(t.field("after") == "null");
        CHECK(t.seq() == i - 2);  // each its own seq
        CHECK(t.str("commit_lsn") == events[2].str("commit_lsn"));
        partitions.insert(t.record.partition);
    }
    CHECK(partitions == std::set<std::int32_t>{0, 1, 2, 3});
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("REPLICA IDENTITY USING INDEX keys by the index, a table without key has a null key") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id int PRIMARY KEY, email text NOT NULL, v text); "
        "CREATE UNIQUE INDEX {table}_email ON {table} (email); "
        "ALTER TABLE {table} REPLICA IDENTITY USING INDEX {table}_email; "
        "CREATE TABLE {table}_nokey (v text)",
        "");
    // Capture both tables with one daemon.
    fx.exec("ALTER TABLE {table}_nokey REPLICA IDENTITY FULL");
    fx.start_daemon_with_tables({"public." + fx.table(), "public." + fx.table() + "_nokey"});
    fx.exec("INSERT INTO {table} VALUES (1, 'a@example.com', 'x')");
    fx.exec("DELETE FROM {table} WHERE id = 1");
    fx.exec("INSERT INTO {table}_nokey VALUES ('free text')");
    auto indexed = events_in_commit_order(fx.read(3));  // and the delete's tombstone
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(indexed.size() == 2);
    CHECK(indexed[0].record.key == std::optional<std::string>("{\"email\":\"a@example.com\"}"));
    CHECK(indexed[1].str("op") == "deleted");
    CHECK(indexed[1].field("before") == "{\"email\":\"a@example.com\"}");
    CHECK(indexed[1].record.key == std::optional<std::string>("{\"email\":\"a@example.com\"}"));

    pgcs::testing::KafkaReader reader(pgcs::testing::brokers());
    auto nokey = reader.read(fx.topic() + "_nokey", 1);
    REQUIRE(nokey.size() == 1);
    CHECK_FALSE(nokey[0].key.has_value());
    CHECK(parse_json(nokey[0].value)["key"].IsNull());
    fx.exec("DROP TABLE {table}_nokey");
    CHECK(fx.stop_daemon().exit_code == 0);
}
