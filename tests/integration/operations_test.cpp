// Running it as a service: every start-up error is clear and permanent ones exit 1 at once;
// transient ones (lost connection, silent server, Kafka unreachable) are retried.
#include <signal.h>

#include <regex>
#include <set>

#include "support/capture_fixture.hpp"
#include "support/kafka_acl.hpp"

using namespace pgcs::testing;

namespace {

std::string with_param(const std::string& conninfo, const std::string& key,
                       const std::string& value) {
    const std::regex existing("(^|\\s)" + key + "=\\S+");
    if (std::regex_search(conninfo, existing)) {
        return std::regex_replace(conninfo, existing, "$1" + key + "=" + value);
    }
    return conninfo + " " + key + "=" + value;
}

// Runs the daemon on a config built from `conninfo` and waits for it to exit by itself.
RunResult run_until_exit(const std::string& conninfo, const std::string& slot,
                         const std::string& table, const std::string& postgres_extra = "") {
    const std::string config = write_temp_file(
        "config.yaml", "postgres:\n  conninfo: \"" + conninfo + "\"\n  slot: " + slot +
                           "\n  publication: " + slot + "\n  tables: [" + table + "]\n" +
                           postgres_extra + "kafka:\n  brokers: \"" + brokers() +
                           "\"\n  topic_prefix: ops\nreconnect:\n  initial_backoff_ms: 100\n");
    DaemonProcess daemon({bin_dir() + "/pgchangeset", "run", "--config", config},
                         "/tmp/pgcs-test-" + unique_suffix() + ".log");
    return daemon.wait(std::chrono::seconds(60));
}

void check_nothing_created(PgClient& pg, const std::string& slot) {
    CHECK(pg.value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'") ==
          "0");
    CHECK(pg.value("SELECT count(*) FROM pg_publication WHERE pubname = '" + slot + "'") == "0");
}

// The slot's confirmed position has not moved past `lsn`.
bool slot_not_past(CaptureFixture& fx, const std::string& lsn) {
    return fx.pg().value("SELECT confirmed_flush_lsn <= '" + lsn +
                         "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + fx.slot() +
                         "'") == "t";
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("wrong password: exit 1 at once with what to do, password never printed") {
    PgClient pg(pg_conninfo());
    const std::string slot = "pgcs_" + unique_suffix();
    const auto r = run_until_exit(with_param(pg_conninfo(), "password", "Wr0ngSecret"), slot,
                                  "public.whatever");
    INFO(r.log);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.log, "password authentication failed"));
    CHECK(contains(r.log, "what to do: check the user and password"));
    CHECK_FALSE(contains(r.log, "Wr0ngSecret"));
    check_nothing_created(pg, slot);
}

TEST_CASE("a user without REPLICATION: exit 1 naming the missing attribute") {
    PgClient pg(pg_conninfo());
    const std::string sfx = unique_suffix();
    const std::string role = "norepl_" + sfx;
    pg.exec("CREATE ROLE " + role + " LOGIN PASSWORD 'pw'");
    pg.exec("CREATE TABLE t_" + sfx + " (id int PRIMARY KEY)");
    const auto r =
        run_until_exit(with_param(with_param(pg_conninfo(), "user", role), "password", "pw"),
                       "pgcs_" + sfx, "public.t_" + sfx);
    INFO(r.log);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.log, "REPLICATION"));
    check_nothing_created(pg, "pgcs_" + sfx);
    pg.exec("DROP TABLE t_" + sfx);
    pg.exec("DROP ROLE " + role);
}

TEST_CASE("a missing database: exit 1 naming it") {
    const auto r = run_until_exit(with_param(pg_conninfo(), "dbname", "no_such_db"),
                                  "pgcs_" + unique_suffix(), "public.t");
    INFO(r.log);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.log, "database \"no_such_db\" does not exist"));
    CHECK(contains(r.log, "what to do:"));
}

TEST_CASE("wal_level below logical: exit 1 saying how to fix it") {
    // A second, throwaway cluster with wal_level=replica.
    const std::string dir = "/tmp/pgcs-walrepl-" + unique_suffix();
    const std::string env =
        "PGCS_RUNTIME_DIR=" + dir + " PGCS_PG_PORT=56432 PGCS_PG_WAL_LEVEL=replica ";
    REQUIRE(std::system(
                (env + "bash " PGCS_SOURCE_DIR "/deploy/pg-start.sh >/dev/null 2>&1").c_str()) ==
            0);
    const std::string conninfo = read_first_line(dir + "/pg/conninfo", "conninfo");
    PgClient other(conninfo);
    other.exec("CREATE TABLE t (id int PRIMARY KEY)");
    const std::string slot = "pgcs_" + unique_suffix();
    const auto r = run_until_exit(conninfo, slot, "public.t");
    std::system(
        (env + "bash " PGCS_SOURCE_DIR "/deploy/pg-stop.sh --destroy >/dev/null 2>&1").c_str());
    INFO(r.log);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.log, "wal_level is 'replica'"));
    CHECK(contains(r.log, "wal_level = logical"));
}

TEST_CASE("publication missing with create_publication off: exit 1, nothing created") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.postgres_extra = "  create_publication: false\n";
    fx.start_daemon(/*wait_active=*/false);
    auto r = fx.daemon().wait(std::chrono::seconds(30));
    INFO(r.log);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.log, "create_publication is false"));
    check_nothing_created(fx.pg(), fx.slot());
}

TEST_CASE("a table without key is captured with a warning and null keys") {
    CaptureFixture fx("CREATE TABLE {table} (v text); ALTER TABLE {table} REPLICA IDENTITY FULL");
    fx.start_daemon();
    CHECK(fx.wait_for_log("has neither a primary key nor a replica identity index"));
    fx.exec("INSERT INTO {table} VALUES ('x')");
    auto records = fx.read(1);
    REQUIRE(records.size() == 1);
    CHECK_FALSE(records[0].key.has_value());
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("a lost replication connection is re-established and nothing is lost", "[pgmatrix]") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1)");
    REQUIRE(fx.read(1).size() == 1);
    fx.exec(
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name "
        "= '" +
        fx.slot() + "'");
    fx.exec("INSERT INTO {table} VALUES (2)");
    CHECK(fx.wait_for_log("reconnecting in"));
    fx.exec("INSERT INTO {table} VALUES (3)");
    auto records = fx.read(3);
    INFO(fx.daemon_log());
    CHECK(records.size() == 3);
    CHECK(fx.daemon_running());
    CHECK(fx.stop_daemon().exit_code == 0);
}

// PostgreSQL creates a slot only once the transactions running at that moment have ended: on a
// busy server that outlasts postgres.read_timeout_ms, and the daemon must wait, not give up.
TEST_CASE("creating the slot waits for a transaction longer than the read timeout") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.postgres_extra = "  read_timeout_ms: 1000\n";
    PgClient open_txn(pg_conninfo());
    open_txn.exec("BEGIN");
    open_txn.value("SELECT txid_current()");  // a transaction with an xid, running
    fx.start_daemon(/*wait_active=*/false);
    REQUIRE(fx.wait_for_log("creating replication slot"));
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // three read timeouts
    CHECK(fx.daemon_running());
    open_txn.exec("COMMIT");
    REQUIRE(fx.wait_for_log("created replication slot"));
    fx.exec("INSERT INTO {table} VALUES (1)");
    INFO(fx.daemon_log());
    CHECK(fx.read(1).size() == 1);
    CHECK(fx.daemon_log().find("no answer from PostgreSQL") == std::string::npos);
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("a silent server is detected by the read timeout and the stream reconnects") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.postgres_extra = "  read_timeout_ms: 2000\n";
    fx.start_daemon();
    const std::string pid = fx.pg().value(
        "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '" + fx.slot() + "'");
    REQUIRE_FALSE(pid.empty());
    // Freeze the walsender: its socket stays open but nothing comes from it.
    REQUIRE(kill(std::stoi(pid), SIGSTOP) == 0);
    const bool detected = fx.wait_for_log("no message from PostgreSQL for");
    kill(std::stoi(pid), SIGCONT);  // it then finds its client gone and exits
    INFO(fx.daemon_log());
    CHECK(detected);
    fx.exec("INSERT INTO {table} VALUES (1)");
    CHECK(fx.read(1).size() == 1);
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("a slot dropped while running stops the daemon, no new slot is created") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.start_daemon();
    const std::string q =
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + fx.slot() + "'";
    REQUIRE(fx.pg().drop_active_slot(fx.slot()));
    auto r = fx.daemon().wait(std::chrono::seconds(30));
    INFO(r.log);
    CHECK(r.exit_code == 1);
    CHECK((contains(r.log, "was dropped") || contains(r.log, "never creates one silently")));
    CHECK(fx.pg().value(q) == "0");
}

TEST_CASE("Kafka unreachable at start: the daemon waits and retries, SIGTERM exits 0") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.brokers_override = "127.0.0.1:1";
    fx.start_daemon(/*wait_active=*/false);
    CHECK(fx.wait_for_log("Kafka is unreachable"));
    CHECK(fx.daemon_running());
    auto r = fx.stop_daemon();
    INFO(r.log);
    CHECK(r.exit_code == 0);
}

TEST_CASE("a topic Kafka denies by ACL stops the stream without acknowledging it", "[kafka-only]") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'allowed')");
    REQUIRE(fx.read(1).size() == 1);
    KafkaAclAdmin admin(brokers());
    admin.deny_write_prefix(fx.topic());
    struct Cleanup {
        KafkaAclAdmin& admin;
        std::string prefix;
        ~Cleanup() {
            try {
                admin.remove_deny_write_prefix(prefix);
            } catch (...) {  // NOLINT(bugprone-empty-catch): best effort, the topic is unique
            }
        }
    } cleanup{admin, fx.topic()};
    const std::string before = fx.pg().value("SELECT pg_current_wal_lsn()");
    fx.exec("INSERT INTO {table} VALUES (2, 'denied')");
    auto r = fx.daemon().wait(std::chrono::seconds(60));
    INFO(r.log);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.log, "Kafka did not accept an event"));
    CHECK(contains(r.log, "TOPIC_AUTHORIZATION_FAILED"));
    CHECK(contains(r.log, "grant the daemon's principal WRITE"));
    CHECK(slot_not_past(fx, before));
}

TEST_CASE("an idle slot advances while another table outside the publication is written") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id int PRIMARY KEY); "
        "CREATE TABLE {table}_busy (id serial PRIMARY KEY, pad text)");
    fx.postgres_extra = "  heartbeat_interval_ms: 500\n";
    fx.start_daemon();
    const std::string q =
        "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE "
        "slot_name = '" +
        fx.slot() + "'";
    const std::string start = fx.pg().value(q);
    for (int i = 0; i < 20; ++i) {
        fx.exec(
            "INSERT INTO {table}_busy (pad) SELECT repeat('x', 200) FROM "
            "generate_series(1, 500)");
    }
    const std::string written = fx.pg().value("SELECT pg_current_wal_lsn()");
    const bool advanced = fx.pg().wait_for("SELECT confirmed_flush_lsn >= '" + written +
                                               "'::pg_lsn FROM pg_replication_slots "
                                               "WHERE slot_name = '" +
                                               fx.slot() + "'",
                                           [](const std::string& v) { return v == "t"; });
    INFO("slot started at " << start << ", WAL written up to " << written << "\n"
                            << fx.daemon_log());
    CHECK(advanced);
    fx.exec("DROP TABLE {table}_busy");
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("SIGTERM under load exits 0 with the final acknowledgement, a restart repeats none",
          "[pgmatrix]") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    fx.start_daemon();
    for (int i = 0; i < 20; ++i) {
        fx.exec("INSERT INTO {table} SELECT g, 'v' FROM generate_series(" +
                std::to_string(i * 500 + 1) + ", " + std::to_string(i * 500 + 500) + ") g");
    }
    auto r = fx.stop_daemon(SIGTERM);
    INFO(r.log);
    CHECK(r.exit_code == 0);
    // The final status update reached PostgreSQL: the slot stands where the log says.
    std::smatch m;
    // The last line's position (debug lines before it report earlier ones).
    REQUIRE(std::regex_search(
        r.log, m, std::regex("acknowledged up to ([0-9A-F]+/[0-9A-F]+); [0-9]+ events published")));
    CHECK(fx.pg().value("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" +
                        fx.slot() + "'") == m[1].str());
    // Restart and read everything: every row at least once, and what was acknowledged at the
    // stop is not sent again.
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (0, 'marker')");
    auto records = fx.read(10001, std::chrono::seconds(60));
    INFO(fx.daemon_log());
    std::set<std::string> keys;
    for (const auto& rec : records) {
        keys.insert(rec.key.value_or(""));
    }
    CHECK(keys.size() == 10001);
    CHECK(records.size() == 10001);  // a clean stop acknowledges all it delivered: no repeats
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("status shows the slot, its lag and the publication, exit 1 without a slot") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.start_daemon();
    const std::string config = write_temp_file("config.yaml", fx.config_text());
    DaemonProcess status({bin_dir() + "/pgchangeset", "status", "--config", config},
                         "/tmp/pgcs-test-" + unique_suffix() + ".log");
    auto r = status.wait(std::chrono::seconds(30));
    INFO(r.log);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.log, "slot: " + fx.slot() + "\n"));
    CHECK(contains(r.log, "slot_exists: yes"));
    CHECK(contains(r.log, "slot_active: t"));
    CHECK(contains(r.log, "wal_level: logical"));
    CHECK(contains(r.log, "lag_bytes: "));
    CHECK(contains(r.log, "publication_tables: public." + fx.table()));
    CHECK(fx.stop_daemon().exit_code == 0);

    const std::string missing = write_temp_file(
        "config.yaml", "postgres:\n  conninfo: \"" + pg_conninfo() + "\"\n  slot: no_such_" +
                           unique_suffix() + "\nkafka:\n  brokers: x:1\n  topic_prefix: x\n");
    DaemonProcess status2({bin_dir() + "/pgchangeset", "status", "--config", missing},
                          "/tmp/pgcs-test-" + unique_suffix() + ".log");
    auto r2 = status2.wait(std::chrono::seconds(30));
    INFO(r2.log);
    CHECK(r2.exit_code == 1);
    CHECK(contains(r2.log, "slot_exists: no"));
}

TEST_CASE("a second daemon on a busy slot waits as a standby and takes over, losing nothing") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.start_daemon();
    DaemonProcess standby({bin_dir() + "/pgchangeset", "run", "--config", fx.config_path()},
                          "/tmp/pgcs-test-standby-" + unique_suffix() + ".log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!contains(standby.log(), "waiting as a standby") &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO(standby.log());
    REQUIRE(contains(standby.log(), "waiting as a standby"));
    fx.exec("INSERT INTO {table} VALUES (1)");
    REQUIRE(fx.read(1).size() == 1);
    CHECK(fx.stop_daemon().exit_code == 0);  // the holder stops: the standby takes over
    fx.exec("INSERT INTO {table} VALUES (2)");
    auto records = fx.read(2);
    CHECK(records.size() == 2);
    CHECK(standby.running());
    CHECK(standby.stop().exit_code == 0);
}

TEST_CASE("SIGHUP re-reads the log level") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.extra_config = "";
    fx.start_daemon();
    // The fixture's config says debug; switch it to warn and signal.
    std::string text = read_file(fx.config_path());
    text.replace(text.find("level: debug"), 12, "level: warn");
    std::ofstream(fx.config_path()) << text;
    kill(fx.daemon().pid(), SIGHUP);
    CHECK(fx.wait_for_log("SIGHUP: log level is now warn"));
    CHECK(fx.daemon_running());
    CHECK(fx.stop_daemon().exit_code == 0);
}
