// Stored generated columns: PostgreSQL 18 sends them when the publication asks for them
// (publish_generated_columns = stored, which a publication pgchangeset creates on 18 gets), and
// the snapshot then reads them too, so both agree; 14-17 never send them, and neither does a
// publication without the option on 18: the events lack the column and the log names it.
#include <set>

#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::parse_json;
using pgcs::testing::Record;

namespace {

constexpr const char* kTable =
    "CREATE TABLE {table} (id int8 PRIMARY KEY, a int, "
    "b int GENERATED ALWAYS AS (a * 2) STORED)";

int server_major(CaptureFixture& fx) {
    return std::stoi(fx.pg().value("SHOW server_version_num")) / 10000;
}

// Two rows before the daemon (read by the snapshot), one after (streamed).
std::vector<Record> capture(CaptureFixture& fx) {
    fx.exec("INSERT INTO {table} (id, a) VALUES (1, 10), (2, 20)");
    fx.extra_config = "snapshot:\n  mode: initial\n";
    fx.start_daemon();
    fx.exec("INSERT INTO {table} (id, a) VALUES (3, 30)");
    return fx.read(3, std::chrono::seconds(60));
}

// Every event's op and whether its row has column b (with the value a * 2 when it has).
void check_events(const std::vector<Record>& records, bool with_b) {
    std::multiset<std::string> ops;
    for (const auto& r : records) {
        INFO(r.value);
        const auto d = parse_json(r.value);
        ops.insert(d["op"].GetString());
        const auto& after = d["after"];
        REQUIRE(after.IsObject());
        CHECK(after.HasMember("a"));
        CHECK(after.HasMember("b") == with_b);
        if (with_b && after.HasMember("b")) {
            CHECK(after["b"].GetInt64() == after["a"].GetInt64() * 2);
        }
    }
    CHECK(ops == std::multiset<std::string>{"read", "read", "added"});
}

}  // namespace

TEST_CASE("generated columns: in the stream and the snapshot on 18, named as missing before",
          "[pgmatrix]") {
    CaptureFixture fx(kTable);
    const int major = server_major(fx);
    const auto records = capture(fx);
    INFO("PostgreSQL " << major << "; daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 3);
    check_events(records, major >= 18);
    const std::string column = "public." + fx.table() + ".b";
    if (major >= 18) {
        CHECK(fx.pg().value("SELECT pubgencols FROM pg_publication WHERE pubname = '" + fx.slot() +
                            "'") == "s");
        CHECK(fx.daemon_log().find(column) == std::string::npos);
    } else {
        CHECK(fx.daemon_log().find("does not send generated columns to logical replication (18 "
                                   "does), so these are not captured (in the stream nor in "
                                   "snapshots): " +
                                   column) != std::string::npos);
    }
}

TEST_CASE("generated columns: a publication without publish_generated_columns is named",
          "[pgmatrix]") {
    CaptureFixture fx(kTable);
    const int major = server_major(fx);
    fx.exec("CREATE PUBLICATION " + fx.slot() + " FOR TABLE {table}");
    const auto records = capture(fx);
    INFO("PostgreSQL " << major << "; daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 3);
    check_events(records, false);
    const std::string column = "public." + fx.table() + ".b";
    if (major >= 18) {
        CHECK(fx.daemon_log().find("publication " + fx.slot() +
                                   " does not publish these stored generated columns, so their "
                                   "values are not captured (in the stream nor in snapshots): " +
                                   column + ". To capture them: ALTER PUBLICATION \"" + fx.slot() +
                                   "\" SET (publish_generated_columns = stored)") !=
              std::string::npos);
    } else {
        CHECK(fx.daemon_log().find("so these are not captured (in the stream nor in snapshots): " +
                                   column) != std::string::npos);
    }
}

TEST_CASE("generated columns: a column list naming one publishes it on 18, before 18 it cannot",
          "[pgmatrix]") {
    CaptureFixture fx(kTable);
    const int major = server_major(fx);
    const std::string error = fx.pg().try_exec(
        fx.replace_table("CREATE PUBLICATION " + fx.slot() + " FOR TABLE {table} (id, a, b)"));
    INFO("PostgreSQL " << major << ": " << error);
    if (major < 18) {
        // 14 has no column lists, 15-17 refuse generated columns in them.
        CHECK_FALSE(error.empty());
        if (major >= 15) {
            CHECK(error.find("generated column") != std::string::npos);
        }
        return;
    }
    REQUIRE(error.empty());
    CHECK(fx.pg().value("SELECT pubgencols FROM pg_publication WHERE pubname = '" + fx.slot() +
                        "'") == "n");
    const auto records = capture(fx);
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 3);
    check_events(records, true);
    CHECK(fx.daemon_log().find("generated columns") == std::string::npos);
}
