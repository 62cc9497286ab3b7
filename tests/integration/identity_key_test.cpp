// The Kafka key of a table whose primary key comes from the catalog (REPLICA IDENTITY FULL):
// asked once per Relation message and kept with that definition; a table dropped before the
// daemon read its transactions keeps the key last known for it, else a null key and a warning,
// and the daemon goes on. Under DEFAULT the stream itself names the key, dropped or not.
// README, "Keys under REPLICA IDENTITY FULL".
#include <csignal>
#include <map>
#include <string>
#include <vector>

#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::occurrences;
using pgcs::testing::parse_json;
using pgcs::testing::Record;

namespace {

// "op id [v]" of an event -> its Kafka key ("null" for a null key).
std::map<std::string, std::string> keys_by_event(const std::vector<Record>& records) {
    std::map<std::string, std::string> out;
    for (const auto& r : records) {
        if (r.null_value) {
            out["tombstone " + r.key.value_or("null")] = r.key.value_or("null");
            continue;
        }
        const auto d = parse_json(r.value);
        const auto& row = d["after"].IsNull() ? d["before"] : d["after"];
        std::string name =
            std::string(d["op"].GetString()) + " " + std::to_string(row["id"].GetInt());
        if (row.HasMember("v")) {
            name += " " + std::to_string(row["v"].GetInt());
        }
        out[name] = r.key.value_or("null");
    }
    return out;
}

// A second published table, so that the daemon can start again once the first is dropped.
struct SecondTable {
    CaptureFixture& fx;
    std::string name;
    explicit SecondTable(CaptureFixture& f) : fx(f), name(f.table() + "_b") {
        fx.exec("CREATE TABLE " + name + " (id int PRIMARY KEY)");
    }
    ~SecondTable() {
        try {
            fx.exec("DROP TABLE IF EXISTS " + name);
        } catch (const std::exception& e) {
            WARN("clean-up: " << e.what());
        }
    }
    std::string topic() const { return fx.prefix() + ".public." + name; }
};

}  // namespace

TEST_CASE("FULL: a primary key changed while running keys the events after its Relation message") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id int PRIMARY KEY, code text NOT NULL, v int);"
        "ALTER TABLE {table} REPLICA IDENTITY FULL");
    fx.start_daemon();
    // Published before the key change: PostgreSQL decoded them (and sent their Relation
    // message) while the old key was in force. What it decodes after the change comes with a
    // new Relation message (README, "Keys under REPLICA IDENTITY FULL").
    fx.exec("INSERT INTO {table} VALUES (1, 'a', 0)");
    fx.exec("UPDATE {table} SET v = 1 WHERE id = 1");
    REQUIRE(fx.read(2).size() == 2);
    fx.exec("ALTER TABLE {table} DROP CONSTRAINT {table}_pkey, ADD PRIMARY KEY (code)");
    fx.exec("INSERT INTO {table} VALUES (2, 'b', 0)");
    fx.exec("UPDATE {table} SET v = 2 WHERE id = 1");
    fx.exec("DELETE FROM {table} WHERE id = 2");

    const auto records = fx.read(6);  // and the delete's tombstone
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 6);
    const auto keys = keys_by_event(records);
    CHECK(keys.at("added 1 0") == R"({"id":1})");
    CHECK(keys.at("modified 1 1") == R"({"id":1})");   // before the key change
    CHECK(keys.at("added 2 0") == R"({"code":"b"})");  // after it
    CHECK(keys.at("modified 1 2") == R"({"code":"a"})");
    CHECK(keys.at("deleted 2 0") == R"({"code":"b"})");
    CHECK(keys.at(R"(tombstone {"code":"b"})") == R"({"code":"b"})");
    CHECK(fx.daemon_running());
}

TEST_CASE("FULL: a table dropped before its new definition was read keeps its last known key") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id int PRIMARY KEY, v int);"
        "ALTER TABLE {table} REPLICA IDENTITY FULL");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 0)");
    REQUIRE(fx.read(1).size() == 1);

    // A new Relation message (ADD COLUMN) that the daemon reads once the table is gone.
    const pid_t pid = fx.daemon().pid();
    REQUIRE(kill(pid, SIGSTOP) == 0);
    fx.exec("ALTER TABLE {table} ADD COLUMN note text");
    fx.exec("INSERT INTO {table} VALUES (2, 0, 'x')");
    fx.exec("UPDATE {table} SET v = 1 WHERE id = 1");
    fx.exec("DROP TABLE {table}");
    REQUIRE(kill(pid, SIGCONT) == 0);

    const auto records = fx.read(3);
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 3);
    const auto keys = keys_by_event(records);
    CHECK(keys.at("added 2 0") == R"({"id":2})");
    CHECK(keys.at("modified 1 1") == R"({"id":1})");
    CHECK(fx.daemon_log().find("keep the key of its earlier definition") != std::string::npos);
    CHECK(fx.daemon_running());
}

namespace {

// The daemon publishes both tables once, then, while it is stopped, the first table's rows are
// added, changed, deleted and the table dropped; it starts again with the second table only.
void change_and_drop_while_stopped(CaptureFixture& fx, const SecondTable& other) {
    fx.start_daemon_with_tables({"public." + fx.table(), "public." + other.name});
    fx.stop_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 0), (2, 0)");
    fx.exec("UPDATE {table} SET v = 1 WHERE id = 1");
    fx.exec("DELETE FROM {table} WHERE id = 2");
    fx.exec("DROP TABLE {table}");
    fx.start_daemon_with_tables({"public." + other.name});
}

}  // namespace

TEST_CASE("FULL: a table dropped while the daemon was stopped: null keys, a warning, it goes on") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id int PRIMARY KEY, v int);"
        "ALTER TABLE {table} REPLICA IDENTITY FULL");
    SecondTable other(fx);
    change_and_drop_while_stopped(fx, other);
    fx.exec("INSERT INTO " + other.name + " VALUES (7)");

    const auto records = fx.read(4);  // no tombstone: a null key has none
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 4);
    const auto keys = keys_by_event(records);
    CHECK(keys.at("added 1 0") == "null");
    CHECK(keys.at("added 2 0") == "null");
    CHECK(keys.at("modified 1 1") == "null");
    CHECK(keys.at("deleted 2 0") == "null");
    const std::string warning = "the stream does not say which columns were its primary key";
    CHECK(occurrences(fx.daemon_log(), warning) == 1);
    CHECK(fx.daemon_log().find("REPLICA IDENTITY FULL") != std::string::npos);

    pgcs::testing::KafkaReader reader(pgcs::testing::brokers());
    const auto later = reader.read(other.topic(), 1, std::chrono::seconds(30));
    REQUIRE(later.size() == 1);
    CHECK(later[0].key == R"({"id":7})");
    CHECK(fx.daemon_running());
}

TEST_CASE("DEFAULT: a table dropped while the daemon was stopped keeps the stream's key") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v int)");
    SecondTable other(fx);
    change_and_drop_while_stopped(fx, other);

    const auto records = fx.read(5);  // and the delete's tombstone
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 5);
    const auto keys = keys_by_event(records);
    CHECK(keys.at("added 1 0") == R"({"id":1})");
    CHECK(keys.at("added 2 0") == R"({"id":2})");
    CHECK(keys.at("modified 1 1") == R"({"id":1})");
    CHECK(keys.at("deleted 2") == R"({"id":2})");  // under DEFAULT `before` is the key only
    CHECK(keys.at(R"(tombstone {"id":2})") == R"({"id":2})");
    CHECK(fx.daemon_log().find("no longer in the catalog") == std::string::npos);
    CHECK(fx.daemon_running());
}
