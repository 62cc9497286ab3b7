// Values that once stopped the daemon for good: text that is not UTF-8 (an SQL_ASCII database)
// arrives as base64 named in "not_utf8", a type dropped before the daemon read the transaction
// that used it is written as its text form; the daemon streams the next transaction.
#include <map>
#include <string>
#include <vector>

#include "support/capture_fixture.hpp"
#include "support/scratch_database.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::parse_json;
using pgcs::testing::pg_conninfo;
using pgcs::testing::PgClient;
using pgcs::testing::ScratchDatabase;

namespace {

// Events by after.id (a topic has several partitions: no order across keys).
std::map<int, rapidjson::Document> by_id(const std::vector<pgcs::testing::Record>& records) {
    std::map<int, rapidjson::Document> out;
    for (const auto& r : records) {
        auto d = parse_json(r.value);
        const int id = d["after"]["id"].GetInt();
        out[id] = std::move(d);
    }
    return out;
}

}  // namespace

TEST_CASE("SQL_ASCII: text that is not UTF-8 arrives as base64 in not_utf8, streaming goes on") {
    const std::string suffix = pgcs::testing::unique_suffix();
    ScratchDatabase db("ascii_" + suffix,
                       "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    CaptureFixture fx("SELECT 1");  // the table lives in the SQL_ASCII database
    fx.conninfo_extra = " dbname=" + db.name;
    PgClient ascii(db.conninfo());
    ascii.exec(fx.replace_table(
        "CREATE TABLE {table} (id int PRIMARY KEY, note text, tag varchar(10), ok text)"));
    fx.start_daemon();

    // 'caf' then 0xC3: half of an 'é', the bytes as stored.
    ascii.exec(fx.replace_table("INSERT INTO {table} VALUES (1, E'caf\\xc3', 'plain', 'x')"));
    ascii.exec(fx.replace_table("INSERT INTO {table} VALUES (2, 'fine', E'\\xff', 'y')"));
    const auto records = fx.read(2);
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 2);

    auto events = by_id(records);
    REQUIRE(events.count(1) == 1);
    REQUIRE(events.count(2) == 1);
    const auto& first = events[1];
    CHECK(std::string(first["after"]["note"].GetString()) == "Y2Fmww==");  // base64 of caf\xc3
    CHECK(std::string(first["after"]["tag"].GetString()) == "plain");
    CHECK(pgcs::testing::json_text(first["not_utf8"]) == R"({"before":[],"after":["note"]})");
    CHECK((records[0].key == R"({"id":1})" || records[1].key == R"({"id":1})"));

    // The next transaction arrived, and one with only valid text has no not_utf8 field.
    const auto& second = events[2];
    CHECK(std::string(second["after"]["tag"].GetString()) == "/w==");
    CHECK(pgcs::testing::json_text(second["not_utf8"]) == R"({"before":[],"after":["tag"]})");
    ascii.exec(fx.replace_table("INSERT INTO {table} VALUES (3, 'clean', 'z', 'w')"));
    const auto all = fx.read(3);
    REQUIRE(all.size() == 3);
    auto all_events = by_id(all);
    REQUIRE(all_events.count(3) == 1);
    const auto& third = all_events[3];
    CHECK_FALSE(third.HasMember("not_utf8"));
    CHECK(fx.daemon_running());
}

TEST_CASE("SQL_ASCII: a key column that is not UTF-8 is base64 in the Kafka key") {
    const std::string suffix = pgcs::testing::unique_suffix();
    ScratchDatabase db("asciikey_" + suffix,
                       "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    CaptureFixture fx("SELECT 1");
    fx.conninfo_extra = " dbname=" + db.name;
    fx.postgres_extra = "  binary: true\n";
    PgClient ascii(db.conninfo());
    ascii.exec(fx.replace_table("CREATE TABLE {table} (k text PRIMARY KEY, v int)"));
    fx.start_daemon();
    ascii.exec(fx.replace_table("INSERT INTO {table} VALUES (E'caf\\xc3', 1)"));
    ascii.exec(fx.replace_table("DELETE FROM {table}"));
    const auto records = fx.read(3);  // added, deleted and its tombstone
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 3);
    for (const auto& r : records) {
        CHECK(r.key == R"({"k":"Y2Fmww=="})");
    }
    const auto deleted = parse_json(records[1].value);
    CHECK(std::string(deleted["op"].GetString()) == "deleted");
    CHECK(pgcs::testing::json_text(deleted["not_utf8"]) == R"({"before":["k"],"after":[]})");
}

TEST_CASE("a type dropped before the daemon reads its transaction: text form, Type's name") {
    for (const bool binary : {false, true}) {
        INFO((binary ? "binary mode" : "text mode"));
        CaptureFixture fx("SELECT 1");
        const std::string type = fx.table() + "_ct";
        fx.exec("CREATE TYPE " + type + " AS (a int, b text)");
        fx.exec("CREATE TABLE {table} (id int PRIMARY KEY, c " + type + ", note text)");
        if (binary) {
            fx.postgres_extra = "  binary: true\n";
        }
        fx.start_daemon();  // creates the slot
        fx.stop_daemon();
        // All committed while the daemon is stopped: the catalog no longer knows the type when
        // the daemon decodes the first insert.
        fx.exec("INSERT INTO {table} VALUES (1, ROW(1, 'abc'), 'x')");
        fx.exec("ALTER TABLE {table} DROP COLUMN c");
        fx.exec("DROP TYPE " + type);
        fx.exec("INSERT INTO {table} VALUES (2, 'y')");
        fx.start_daemon();
        fx.exec("INSERT INTO {table} VALUES (3, 'z')");  // and it keeps streaming
        const auto records = fx.read(3);
        INFO("daemon log:\n" << fx.daemon_log());
        REQUIRE(records.size() == 3);
        auto events = by_id(records);
        REQUIRE(events.size() == 3);
        const auto& first = events[1];
        // The text form PostgreSQL prints; in binary mode the base64 of record_send's bytes.
        CHECK(std::string(first["after"]["c"].GetString()) ==
              (binary ? "AAAAAgAAABcAAAAEAAAAAQAAABkAAAADYWJj" : "(1,abc)"));
        CHECK(std::string(first["types"]["c"].GetString()) == type);  // the Type message's name
        CHECK(std::string(first["after"]["note"].GetString()) == "x");
        CHECK(std::string(events[2]["after"]["note"].GetString()) == "y");
        CHECK_FALSE(events[2]["after"].HasMember("c"));
        CHECK(std::string(events[3]["after"]["note"].GetString()) == "z");
        CHECK(fx.daemon_log().find("is no longer in the catalog") != std::string::npos);
        CHECK(fx.daemon_running());
    }
}
