// Managed and locked-down servers: the daemon runs with the least privilege the README lists,
// the replication check is the server's answer (role membership as on Amazon RDS), and
// errors are classified by SQLSTATE whatever language the server speaks (lc_messages) or the
// daemon runs in (LANG).
#include <chrono>
#include <map>
#include <regex>
#include <string>
#include <thread>

#include "support/capture_fixture.hpp"

using namespace pgcs::testing;

namespace {

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

std::string with_param(const std::string& conninfo, const std::string& key,
                       const std::string& value) {
    const std::regex existing("(^|\\s)" + key + "=\\S+");
    if (std::regex_search(conninfo, existing)) {
        return std::regex_replace(conninfo, existing, "$1" + key + "=" + value);
    }
    return conninfo + " " + key + "=" + value;
}

// A role, a table with rows, a publication the DBA made, and the clean-up of all of them
// (and of the slot and a schema) afterwards.
struct LockedDown {
    PgClient pg{pg_conninfo()};
    std::string sfx = unique_suffix();
    std::string role = "lp_" + sfx;
    std::string table = "t_" + sfx;
    std::string schema = "cdc_" + sfx;
    std::string slot = "pgcs_" + sfx;
    std::string prefix = "lp_" + sfx;

    explicit LockedDown(const std::string& role_attributes) {
        pg.exec("CREATE ROLE " + role + " LOGIN " + role_attributes + " PASSWORD 'pw'");
        pg.exec("CREATE TABLE " + table + " (id int8 PRIMARY KEY, note text)");
        pg.exec("INSERT INTO " + table + " SELECT g, 'old' FROM generate_series(1, 100) g");
        pg.exec("GRANT SELECT ON " + table + " TO " + role);
        pg.exec("CREATE PUBLICATION " + slot + " FOR TABLE " + table);
    }
    ~LockedDown() {
        try {
            pg.wait_for(
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot +
                    "' AND active",
                [](const std::string& v) { return v == "0"; }, std::chrono::seconds(10));
            pg.exec(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                "WHERE slot_name = '" +
                slot + "' AND NOT active");
            pg.exec("DROP PUBLICATION IF EXISTS " + slot);
            pg.exec("DROP TABLE IF EXISTS " + table);
            pg.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            pg.exec("DROP OWNED BY " + role);
            pg.exec("DROP ROLE IF EXISTS " + role);
        } catch (const std::exception& e) {
            WARN("clean-up: " << e.what());
        }
    }

    std::string conninfo() const {
        return with_param(with_param(pg_conninfo(), "user", role), "password", "pw");
    }
    std::string config(const std::string& snapshot) const {
        return write_temp_file(
            "config.yaml", "postgres:\n  conninfo: \"" + conninfo() + "\"\n  slot: " + slot +
                               "\n  publication: " + slot +
                               "\n  create_publication: false\nkafka:\n  brokers: \"" + brokers() +
                               "\"\n  topic_prefix: " + prefix +
                               "\nreconnect:\n  initial_backoff_ms: 100\n" + snapshot);
    }
    std::string log_path() const { return "/tmp/pgcs-test-" + sfx + ".log"; }
    std::string topic() const { return prefix + ".public." + table; }
    bool slot_exists() {
        return pg.value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot +
                        "'") == "1";
    }
};

// Counts the topic's events by op until `total` are there (30 s at most).
std::map<std::string, int> ops(const std::string& topic, int total) {
    std::map<std::string, int> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
        out.clear();
        int n = 0;
        KafkaReader reader(brokers());
        reader.visit_to_end(topic, [&](Record&& rec) {
            if (!rec.null_value) {
                ++out[parse_json(rec.value)["op"].GetString()];
                ++n;
            }
        });
        if (n >= total || std::chrono::steady_clock::now() > deadline) {
            return out;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
}

bool wait_for_text(const std::string& path, const std::string& text,
                   std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (contains(read_file(path), text)) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

}  // namespace

TEST_CASE("least privilege: REPLICATION, SELECT and the DBA's publication capture and snapshot") {
    LockedDown s("REPLICATION");
    {
        INFO(
            "the default progress table, in public: PostgreSQL 15 lets this user create nothing "
            "there, so the default mode stops before creating the slot, saying what to do");
        DaemonProcess d({bin_dir() + "/pgchangeset", "run", "--config", s.config("")},
                        s.log_path());
        const RunResult r = d.wait(std::chrono::seconds(60));
        INFO(r.log);
        CHECK(r.exit_code == 1);
        // Created by other tests already (as superuser), or not: either is said clearly.
        CHECK((contains(r.log, "cannot create the snapshot progress table") ||
               contains(r.log, "may not use the snapshot progress table")));
        CHECK(contains(r.log, "point snapshot.table at"));
        CHECK_FALSE(s.slot_exists());
    }
    {
        INFO("snapshot.mode never needs no write at all: it streams (and creates the slot)");
        DaemonProcess d(
            {bin_dir() + "/pgchangeset", "run", "--config", s.config("snapshot:\n  mode: never\n")},
            s.log_path());
        REQUIRE(wait_for_text(s.log_path(), "streaming slot"));
        s.pg.exec("INSERT INTO " + s.table + " VALUES (1000, 'new')");
        CHECK(ops(s.topic(), 1)["added"] == 1);
        CHECK(d.stop().exit_code == 0);
    }
    // The grants the README gives for a progress table in a schema the operator names.
    s.pg.exec("CREATE SCHEMA " + s.schema);
    s.pg.exec("GRANT USAGE, CREATE ON SCHEMA " + s.schema + " TO " + s.role);
    const std::string progress = "snapshot:\n  mode: initial\n  table: " + s.schema +
                                 ".pgchangeset_snapshots\n  chunk_size: 30\n";
    {
        INFO(
            "initial, progress in the named schema: the slot (made by the run with never) has "
            "no snapshot recorded, so its 101 rows are read");
        DaemonProcess d({bin_dir() + "/pgchangeset", "run", "--config", s.config(progress)},
                        s.log_path());
        REQUIRE(wait_for_text(s.log_path(), "has no snapshot recorded"));
        REQUIRE(wait_for_text(s.log_path(), "snapshot of public." + s.table + " complete"));
        s.pg.exec("INSERT INTO " + s.table + " VALUES (1001, 'new')");
        const auto seen = ops(s.topic(), 103);
        CHECK(seen.at("read") == 101);
        CHECK(seen.at("added") == 2);
        CHECK(d.stop().exit_code == 0);
    }
    // Nothing left to snapshot: no write needed. The table is taken from the user, who keeps
    // SELECT only, and loses CREATE on the schema.
    s.pg.exec("ALTER TABLE " + s.schema + ".pgchangeset_snapshots OWNER TO CURRENT_USER");
    s.pg.exec("GRANT SELECT ON " + s.schema + ".pgchangeset_snapshots TO " + s.role);
    s.pg.exec("REVOKE CREATE ON SCHEMA " + s.schema + " FROM " + s.role);
    {
        INFO("a restart after the snapshot: read only, nothing read again");
        const std::string log = s.log_path() + ".restart";  // this run's lines alone
        DaemonProcess d({bin_dir() + "/pgchangeset", "run", "--config", s.config(progress)}, log);
        REQUIRE(wait_for_text(log, "already has its snapshot, completed at"));
        REQUIRE(wait_for_text(log, "streaming slot " + s.slot, std::chrono::seconds(30)));
        s.pg.exec("INSERT INTO " + s.table + " VALUES (1002, 'new')");
        const auto seen = ops(s.topic(), 104);
        CHECK(seen.at("read") == 101);
        CHECK(seen.at("added") == 3);
        const RunResult r = d.stop();
        INFO(r.log);
        CHECK(r.exit_code == 0);
        CHECK_FALSE(contains(r.log, "permission denied"));
    }
}

TEST_CASE("replication through role membership: the server's answer decides, by SQLSTATE") {
    // A role named as Amazon RDS names it, with REPLICATION. Plain PostgreSQL does not pass
    // the attribute on to members, and refuses them the replication connection: the daemon
    // says so (the catalog alone would have to guess), exits 1 and creates nothing.
    PgClient pg(pg_conninfo());
    pg.try_exec("CREATE ROLE rds_replication NOLOGIN REPLICATION");  // may exist (other runs)
    LockedDown s("NOREPLICATION");
    s.pg.exec("GRANT rds_replication TO " + s.role);
    DaemonProcess d(
        {bin_dir() + "/pgchangeset", "run", "--config", s.config("snapshot:\n  mode: never\n")},
        s.log_path());
    const RunResult r = d.wait(std::chrono::seconds(60));
    INFO(r.log);
    CHECK(r.exit_code == 1);
    CHECK(
        contains(r.log, "PostgreSQL refuses replication to user " + s.role + " (SQLSTATE 42501)"));
    CHECK(contains(r.log, "is a member of rds_replication"));
    CHECK(contains(r.log, "GRANT rds_replication TO <user>"));
    CHECK_FALSE(contains(r.log, "reconnecting"));
    CHECK_FALSE(s.slot_exists());
    CHECK(pg.value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + s.slot +
                   "'") == "0");
}

// Runs with lc_messages = de_DE.UTF-8 on the whole cluster, so it runs alone ([locale]: see
// tests/integration/CMakeLists.txt): other tests read the server's English messages.
TEST_CASE(
    "a server speaking German: a wrong password, a missing privilege or database stop the "
    "daemon at once, also when the daemon runs under LANG=de_DE.UTF-8",
    "[locale]") {
    PgClient pg(pg_conninfo());
    struct Reset {
        PgClient& pg;
        ~Reset() {
            try {
                pg.exec("ALTER SYSTEM RESET lc_messages");
                pg.exec("SELECT pg_reload_conf()");
            } catch (const std::exception& e) {
                WARN("clean-up: " << e.what());
            }
        }
    } reset{pg};
    pg.exec("ALTER SYSTEM SET lc_messages = 'de_DE.UTF-8'");
    pg.exec("SELECT pg_reload_conf()");
    REQUIRE(pg.wait_for(
        "SELECT setting FROM pg_settings WHERE name = 'lc_messages'",
        [](const std::string& v) { return v == "de_DE.UTF-8"; }, std::chrono::seconds(10)));
    // A new session (as the daemon's are) answers in German.
    PgClient fresh(pg_conninfo());
    REQUIRE(contains(fresh.try_exec("SELECT * FROM no_such_table_anywhere"), "existiert nicht"));

    LockedDown s("NOREPLICATION");
    struct Case {
        std::string name, conninfo, sqlstate, server_text, advice;
    };
    const std::vector<Case> cases{
        {"wrong password", with_param(s.conninfo(), "password", "Wr0ngSecret"), "28P01",
         "Passwort-Authentifizierung", "what to do: check the user and password"},
        {"no REPLICATION", s.conninfo(), "42501", "Replikationsrolle",
         "ALTER ROLE <user> REPLICATION"},
        {"no such database", with_param(pg_conninfo(), "dbname", "nope_" + s.sfx), "3D000",
         "existiert nicht", "what to do: check the database named in postgres.conninfo"},
    };
    for (const bool german_client : {false, true}) {
        for (const Case& c : cases) {
            const std::string config = write_temp_file(
                "config.yaml", "postgres:\n  conninfo: \"" + c.conninfo + "\"\n  slot: " + s.slot +
                                   "\n  publication: " + s.slot + "\nkafka:\n  brokers: \"" +
                                   brokers() +
                                   "\"\n  topic_prefix: x\nreconnect:\n  initial_backoff_ms: "
                                   "100\nsnapshot:\n  mode: never\n");
            std::vector<std::string> args{bin_dir() + "/pgchangeset", "run", "--config", config};
            if (german_client) {
                args.insert(args.begin(),
                            {"/usr/bin/env", "LANG=de_DE.UTF-8", "LC_ALL=de_DE.UTF-8"});
            }
            DaemonProcess d(args, "/tmp/pgcs-test-" + unique_suffix() + ".log");
            const auto started = std::chrono::steady_clock::now();
            // 30 s at most each: six cases stay within the test's timeout even when each
            // fails (the cluster's lc_messages is reset at the end).
            const RunResult r = d.wait(std::chrono::seconds(30));
            INFO(c.name << (german_client ? ", LANG=de_DE.UTF-8" : "") << "\n" << r.log);
            CHECK(r.exit_code == 1);
            CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
            CHECK(contains(r.log, c.sqlstate));
            CHECK(contains(r.log, c.server_text));  // the server did answer in German
            CHECK(contains(r.log, c.advice));
            CHECK_FALSE(contains(r.log, "reconnecting"));
            CHECK_FALSE(contains(r.log, "Wr0ngSecret"));
            CHECK_FALSE(s.slot_exists());
        }
    }
    {
        INFO(
            "the publication dropped while streaming: the walsender's German 42704 stops the "
            "daemon with what to do, as in English");
        CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
        fx.start_daemon();
        fx.exec("DROP PUBLICATION " + fx.slot());
        fx.exec("INSERT INTO {table} VALUES (1)");
        const RunResult r = fx.daemon().wait(std::chrono::seconds(30));
        INFO(r.log);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.log, "42704"));
        CHECK(contains(r.log, "existiert nicht"));
        CHECK(contains(r.log, "what to do: an object the message names does not exist"));
        CHECK_FALSE(contains(r.log, "reconnecting"));
    }
}
