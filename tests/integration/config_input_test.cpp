// Hostile configuration input the daemon must hold its ground against: ${VAR} values in
// postgres.conninfo that try to add parameters, and secrets that must never reach the log.
#include <stdlib.h>

#include "support/capture_fixture.hpp"

using namespace pgcs::testing;

namespace {

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

// A login role of its own, dropped after the test (declare it before the fixture, whose
// publication it owns, so that it is dropped last).
struct TempRole {
    TempRole(std::string name, const std::string& password) : name(std::move(name)) {
        PgClient pg(pg_conninfo());
        std::string literal;
        for (char c : password) {
            literal += c;
            if (c == '\'') {
                literal += '\'';
            }
        }
        pg.exec("CREATE ROLE " + this->name + " LOGIN SUPERUSER PASSWORD '" + literal + "'");
    }
    ~TempRole() {
        try {
            PgClient pg(pg_conninfo());
            pg.exec("DROP OWNED BY " + name);
            pg.exec("DROP ROLE IF EXISTS " + name);
        } catch (const std::exception& e) {
            WARN("clean-up: " << e.what());
        }
    }
    TempRole(const TempRole&) = delete;
    TempRole& operator=(const TempRole&) = delete;
    std::string name;
};

}  // namespace

TEST_CASE("a ${VAR} password with ' port=1' in it is one password: right port, never logged") {
    const std::string sfx = unique_suffix();
    // Spaces, a parameter, quotes and a backslash: each would change the connection string if
    // pasted in as it is.
    const std::string secret = "Sek " + sfx + " port=1 host='x' tail\\";
    TempRole role("pgcs_pw_" + sfx, secret);
    const std::string var = "PGCS_TEST_PW_" + sfx;
    REQUIRE(setenv(var.c_str(), secret.c_str(), 1) == 0);
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    // libpq uses the last value of a repeated keyword: these override the test's user.
    fx.conninfo_extra = " user=" + role.name + " password=${" + var + "}";
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'one')");
    const auto records = fx.read(1);
    REQUIRE(records.size() == 1);
    CHECK(contains(records[0].value, "\"op\":\"added\""));
    const std::string log = fx.daemon_log();
    INFO(log);
    CHECK_FALSE(contains(log, sfx + " port=1"));
    CHECK_FALSE(contains(log, "port=1 host"));
    CHECK_FALSE(contains(log, "tail\\"));
    CHECK_FALSE(contains(log, "Sek "));
    unsetenv(var.c_str());
}

TEST_CASE("a wrong ${VAR} password with ' port=1' in it: exit 1, no part of it logged") {
    const std::string sfx = unique_suffix();
    const std::string secret = "Wr0ng" + sfx + " port=1 tail" + sfx;
    const std::string var = "PGCS_TEST_PW_" + sfx;
    REQUIRE(setenv(var.c_str(), secret.c_str(), 1) == 0);
    const std::string slot = "pgcs_" + sfx;
    const std::string config = write_temp_file(
        "config.yaml", "postgres:\n  conninfo: \"" + pg_conninfo() + " password=${" + var +
                           "}\"\n  slot: " + slot + "\n  publication: " + slot +
                           "\n  tables: [public.whatever]\nkafka:\n  brokers: \"" + brokers() +
                           "\"\n  topic_prefix: ops\nreconnect:\n  initial_backoff_ms: 100\n");
    DaemonProcess daemon({bin_dir() + "/pgchangeset", "run", "--config", config},
                         "/tmp/pgcs-test-" + sfx + ".log");
    // Before ${VAR} was quoted the daemon connected to port 1 and retried for ever.
    const RunResult r = daemon.wait(std::chrono::seconds(30));
    unsetenv(var.c_str());
    INFO(r.log);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.log, "password authentication failed"));
    CHECK(contains(r.log, "password=********"));
    CHECK_FALSE(contains(r.log, sfx));
    CHECK_FALSE(contains(r.log, "port=1"));
}

TEST_CASE("snapshot --table with a bad name: exit 2 saying what is wrong") {
    const std::string config = write_temp_file(
        "config.yaml", "postgres:\n  conninfo: \"" + pg_conninfo() + "\"\nkafka:\n  brokers: \"" +
                           brokers() + "\"\n  topic_prefix: ops\n");
    auto snapshot = [&](const std::string& table) {
        DaemonProcess command(
            {bin_dir() + "/pgchangeset", "snapshot", "--config", config, "--table", table},
            "/tmp/pgcs-test-" + unique_suffix() + ".log");
        return command.wait(std::chrono::seconds(30));
    };
    const struct {
        std::string table;
        std::string message;
    } cases[] = {
        {"a.b.c", "'a.b.c' is not a table name of the form schema.table: has more than two parts"},
        {"public.", "'public.' is not a table name of the form schema.table: a name is missing"},
        {"\"unterminated", "a double-quoted name is not closed"},
        {"users", "the schema is missing; write schema.table, e.g. public.users"},
        {"public.no_such_" + unique_suffix(), "there is no table \"public\".\"no_such_"},
    };
    for (const auto& c : cases) {
        const RunResult r = snapshot(c.table);
        INFO(c.table << ": " << r.log);
        CHECK(r.exit_code == 2);
        CHECK(contains(r.log, "pgchangeset: --table"));
        CHECK(contains(r.log, c.message));
        CHECK_FALSE(contains(r.log, "ERROR:"));  // no raw PostgreSQL error
    }
}

TEST_CASE("run with a spill directory it cannot write to exits 2 at start, naming it") {
    const std::string sfx = unique_suffix();
    const std::string not_a_folder = write_temp_file("spill-file", "x");
    for (const std::string& spill :
         {"/tmp/pgcs-no-such-dir-" + sfx, not_a_folder, std::string("/proc")}) {
        const std::string slot = "pgcs_" + sfx;
        const std::string config = write_temp_file(
            "config.yaml", "postgres:\n  conninfo: \"" + pg_conninfo() + "\"\n  slot: " + slot +
                               "\n  publication: " + slot +
                               "\n  tables: [public.whatever]\nkafka:\n  brokers: \"" + brokers() +
                               "\"\n  topic_prefix: ops\nbuffer:\n  spill_directory: " + spill +
                               "\n");
        DaemonProcess daemon({bin_dir() + "/pgchangeset", "run", "--config", config},
                             "/tmp/pgcs-test-" + unique_suffix() + ".log");
        const RunResult r = daemon.wait(std::chrono::seconds(30));
        INFO(spill << ": " << r.log);
        CHECK(r.exit_code == 2);
        CHECK(contains(r.log, "buffer.spill_directory: "));
        CHECK(contains(r.log, spill));
        CHECK(contains(r.log, "ReadWritePaths="));
        // Nothing was attempted: no connection, so no "no such table" for public.whatever.
        CHECK_FALSE(contains(r.log, "whatever"));
    }
}
