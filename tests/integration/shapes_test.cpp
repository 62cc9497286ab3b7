// Row shapes end to end: unchanged TOAST values, replica identities, key changes, TRUNCATE of
// several tables, schema changes while streaming, and partitioned tables.
#include <map>
#include <set>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "support/capture_fixture.hpp"

using pgcs::testing::brokers;
using pgcs::testing::CaptureFixture;
using pgcs::testing::KafkaReader;
using pgcs::testing::parse_json;
using pgcs::testing::Record;

namespace {

struct Ev {
    Record record;
    rapidjson::Document doc;
    std::string field(const char* name) const { return pgcs::testing::json_text(doc[name]); }
    std::string op() const { return doc["op"].GetString(); }
};

// Events in (commit_lsn, seq) order.
std::vector<Ev> ordered(const std::vector<Record>& records) {
    std::vector<Ev> out;
    for (const auto& r : records) {
        out.push_back({r, parse_json(r.value)});
    }
    std::sort(out.begin(), out.end(), [](const Ev& a, const Ev& b) {
        const std::string la = a.doc["commit_lsn"].GetString();
        const std::string lb = b.doc["commit_lsn"].GetString();
        // Same-width hex halves compare as numbers once padded.
        auto pad = [](const std::string& l) {
            const auto slash = l.find('/');
            return std::string(8 - slash, '0') + l.substr(0, slash) +
                   std::string(8 - (l.size() - slash - 1), '0') + l.substr(slash + 1);
        };
        return std::make_pair(pad(la), a.doc["seq"].GetUint64()) <
               std::make_pair(pad(lb), b.doc["seq"].GetUint64());
    });
    return out;
}

// A value PostgreSQL will store out of line, uncompressed: 200 kB of hex digits.
const char* kBigValue = "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 6250) g)";

}  // namespace

TEST_CASE("unchanged TOAST: listed and absent under DEFAULT, the old value under FULL",
          "[pgmatrix]") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id int PRIMARY KEY, big text, n int); "
        "ALTER TABLE {table} ALTER big SET STORAGE EXTERNAL; "
        "CREATE TABLE {table}_full (id int PRIMARY KEY, big text, n int); "
        "ALTER TABLE {table}_full ALTER big SET STORAGE EXTERNAL; "
        "ALTER TABLE {table}_full REPLICA IDENTITY FULL");
    fx.start_daemon_with_tables({"public." + fx.table(), "public." + fx.table() + "_full"});
    for (const std::string suffix : {"", "_full"}) {
        fx.exec("INSERT INTO {table}" + suffix + " VALUES (1, " + kBigValue + ", 1)");
        fx.exec("UPDATE {table}" + suffix + " SET n = 2 WHERE id = 1");
    }
    const std::string big = fx.pg().value(std::string("SELECT ") + kBigValue);
    REQUIRE(big.size() == 200000);

    auto plain = ordered(fx.read(2));
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(plain.size() == 2);
    CHECK(plain[1].op() == "modified");
    CHECK(plain[1].field("unchanged_toast") == "[\"big\"]");
    CHECK(plain[1].field("after") == "{\"id\":1,\"n\":2}");  // absent, never null or a placeholder

    KafkaReader reader(brokers());
    auto full = ordered(reader.read(fx.topic() + "_full", 2));
    REQUIRE(full.size() == 2);
    CHECK(full[1].field("unchanged_toast") == "[\"big\"]");
    CHECK(full[1].doc["after"]["big"].GetString() == big);
    CHECK(full[1].doc["before"]["big"].GetString() == big);
    CHECK(full[1].field("changed") == "[\"n\"]");
    fx.exec("DROP TABLE {table}_full");
}

TEST_CASE("REPLICA IDENTITY NOTHING: inserts are captured, PostgreSQL refuses updates") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id int PRIMARY KEY, v text); "
        "ALTER TABLE {table} REPLICA IDENTITY NOTHING");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'a')");
    CHECK_THROWS_WITH(fx.exec("UPDATE {table} SET v = 'b'"),
                      Catch::Contains("does not have a replica identity"));
    auto events = ordered(fx.read(1));
    REQUIRE(events.size() == 1);
    CHECK(events[0].op() == "added");
    // The key still comes from the primary key.
    CHECK(events[0].record.key == std::optional<std::string>("{\"id\":1}"));
}

TEST_CASE("a primary-key change: deleted under the old key, added under the new key") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'a')");
    fx.exec("UPDATE {table} SET id = 2 WHERE id = 1");
    fx.exec("UPDATE {table} SET v = 'b' WHERE id = 2");
    auto events = ordered(pgcs::testing::without_tombstones(fx.read(5)));
    REQUIRE(events.size() == 4);
    CHECK(events[1].op() == "deleted");
    CHECK(events[1].record.key == std::optional<std::string>("{\"id\":1}"));
    CHECK(events[1].field("before") == "{\"id\":1}");
    CHECK(events[2].op() == "added");
    CHECK(events[2].record.key == std::optional<std::string>("{\"id\":2}"));
    CHECK(events[2].field("key") == "{\"id\":2}");
    CHECK(events[2].field("before") == "{\"id\":1}");
    CHECK(events[2].field("after") == "{\"id\":2,\"v\":\"a\"}");
    // An update that keeps the key sends no old key under DEFAULT.
    CHECK(events[3].op() == "modified");
    CHECK(events[3].field("before") == "null");
}

TEST_CASE("TRUNCATE of several tables with CASCADE and RESTART IDENTITY: every partition of each") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY); "
        "CREATE TABLE {table}_b (id int PRIMARY KEY); "
        "CREATE TABLE {table}_child (id int PRIMARY KEY, parent int REFERENCES {table})");
    const std::string t = "public." + fx.table();
    fx.start_daemon_with_tables({t, t + "_b", t + "_child"});
    fx.exec(
        "INSERT INTO {table} DEFAULT VALUES; INSERT INTO {table}_b VALUES (1); "
        "INSERT INTO {table}_child VALUES (1, 1)");
    fx.exec("TRUNCATE {table}, {table}_b RESTART IDENTITY CASCADE");
    KafkaReader reader(brokers());
    std::string commit_lsn;
    std::set<std::uint64_t> seqs;
    for (const std::string suffix : {"", "_b", "_child"}) {
        INFO("table " << fx.table() + suffix);
        auto events = ordered(reader.read(fx.topic() + suffix, 1 + 4));  // 4 partitions
        REQUIRE(events.size() == 5);
        std::set<std::int32_t> partitions;
        for (std::size_t i = 1; i < events.size(); ++i) {
            CHECK(events[i].op() == "truncated");
            CHECK_FALSE(events[i].record.key.has_value());
            partitions.insert(events[i].record.partition);
            seqs.insert(events[i].doc["seq"].GetUint64());
            const std::string lsn = events[i].doc["commit_lsn"].GetString();
            CHECK((commit_lsn.empty() || lsn == commit_lsn));  // one transaction
            commit_lsn = lsn;
        }
        CHECK(partitions.size() == 4);
    }
    CHECK(seqs.size() == 12);  // one seq each
    fx.exec("DROP TABLE {table}_child, {table}_b");
}

TEST_CASE("schema changes while streaming: each event has the shape of its commit", "[pgmatrix]") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, a text, b int)");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'one', 1)");
    fx.exec(
        "ALTER TABLE {table} ADD COLUMN c numeric; INSERT INTO {table} VALUES (2, 'two', 2, 2.5)");
    fx.exec("ALTER TABLE {table} DROP COLUMN b; INSERT INTO {table} VALUES (3, 'three', 3.5)");
    fx.exec(
        "ALTER TABLE {table} RENAME COLUMN a TO name; INSERT INTO {table} VALUES (4, 'four', 4)");
    fx.exec(
        "ALTER TABLE {table} ALTER COLUMN c TYPE int8 USING c::int8; "
        "INSERT INTO {table} VALUES (5, 'five', 9007199254740993)");
    // Dropped and created again: a new OID, added to the publication again.
    fx.exec(
        "DROP TABLE {table}; CREATE TABLE {table} (id uuid PRIMARY KEY, flag bool); "
        "ALTER PUBLICATION " +
        fx.slot() +
        " ADD TABLE {table}; "
        "INSERT INTO {table} VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true)");
    // A table added to the publication while streaming.
    fx.exec("CREATE TABLE {table}_new (k text PRIMARY KEY); ALTER PUBLICATION " + fx.slot() +
            " ADD TABLE {table}_new; INSERT INTO {table}_new VALUES ('x')");
    auto events = ordered(fx.read(6));
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(events.size() == 6);
    CHECK(events[0].field("after") == "{\"id\":1,\"a\":\"one\",\"b\":1}");
    CHECK(events[0].field("types") == "{\"id\":\"int4\",\"a\":\"text\",\"b\":\"int4\"}");
    CHECK(events[1].field("after") == "{\"id\":2,\"a\":\"two\",\"b\":2,\"c\":\"2.5\"}");
    CHECK(events[2].field("after") == "{\"id\":3,\"a\":\"three\",\"c\":\"3.5\"}");
    CHECK(events[3].field("after") == "{\"id\":4,\"name\":\"four\",\"c\":\"4\"}");
    CHECK(events[4].record.value.find("\"after\":{\"id\":5,\"name\":\"five\","
                                      "\"c\":9007199254740993}") != std::string::npos);
    CHECK(events[4].field("types") == "{\"id\":\"int4\",\"name\":\"text\",\"c\":\"int8\"}");
    CHECK(events[5].field("key") == "{\"id\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"}");
    CHECK(events[5].field("types") == "{\"id\":\"uuid\",\"flag\":\"bool\"}");
    KafkaReader reader(brokers());
    auto added = reader.read(fx.topic() + "_new", 1);
    REQUIRE(added.size() == 1);
    CHECK(pgcs::testing::json_text(parse_json(added[0].value)["after"]) == "{\"k\":\"x\"}");
    fx.exec("DROP TABLE {table}_new");
}

TEST_CASE("partitioned tables: events name the leaf, or the root with publish_via_partition_root",
          "[pgmatrix]") {
    const char* ddl =
        "CREATE TABLE {table} (id int PRIMARY KEY, v text) PARTITION BY RANGE (id); "
        "CREATE TABLE {table}_low PARTITION OF {table} FOR VALUES FROM (0) TO (100); "
        "CREATE TABLE {table}_high PARTITION OF {table} FOR VALUES FROM (100) TO (200)";
    SECTION("leaf tables by default") {
        CaptureFixture fx(ddl);
        fx.start_daemon();
        fx.exec("INSERT INTO {table} VALUES (1, 'low'), (150, 'high')");
        KafkaReader reader(brokers());
        auto low = reader.read(fx.topic() + "_low", 1);
        auto high = reader.read(fx.topic() + "_high", 1);
        REQUIRE(low.size() == 1);
        REQUIRE(high.size() == 1);
        CHECK(std::string(parse_json(low[0].value)["table"].GetString()) == fx.table() + "_low");
        CHECK(std::string(parse_json(high[0].value)["table"].GetString()) == fx.table() + "_high");
    }
    SECTION("the root with publish_via_partition_root") {
        CaptureFixture fx(ddl);
        fx.postgres_extra = "  publish_via_partition_root: true\n";
        fx.start_daemon();
        fx.exec("INSERT INTO {table} VALUES (1, 'low'), (150, 'high')");
        auto events = ordered(fx.read(2));
        REQUIRE(events.size() == 2);
        for (const auto& e : events) {
            CHECK(std::string(e.doc["table"].GetString()) == fx.table());
        }
        CHECK(fx.pg().value("SELECT pubviaroot FROM pg_publication WHERE pubname = '" + fx.slot() +
                            "'") == "t");
    }
}
