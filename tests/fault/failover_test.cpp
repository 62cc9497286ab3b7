// PostgreSQL failover and decoding from a standby, each on a primary and a streaming standby of
// its own (tests/fault/pg_pair.sh, servers from deploy/pg-fetch.sh): on 17 the daemon follows a
// promotion from the synchronised failover slot and the ledger finds every committed change in
// Kafka; on 16 (no failover slots) it stops loudly; on a 17 standby it decodes what the primary
// writes.
#include <cstdlib>
#include <fstream>
#include <random>

#include "fault/ledger.hpp"
#include "support/capture_fixture.hpp"
#include "support/private_broker.hpp"

using namespace pgcs::testing;
using pgcs::fault::LoadGenerator;
using pgcs::fault::parse_lsn;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

void sleep_ms(long ms) {
    std::this_thread::sleep_for(milliseconds(ms));
}

// A primary and a synchronous streaming standby; PGCS_TEST_PG_CONNINFO names both hosts
// (target_session_attrs=read-write) while it lives, so the fixtures and the load follow a
// promotion.
class PgPair {
  public:
    explicit PgPair(int major) : dir_("/var/tmp/pgcs-pair-" + unique_suffix()) {
        script("start " + std::to_string(major) + " " + dir_);
        primary_ = read_first_line(dir_ + "/primary.conninfo", "the primary's conninfo");
        standby_ = read_first_line(dir_ + "/standby.conninfo", "the standby's conninfo");
        both_ = read_first_line(dir_ + "/both.conninfo", "the pair's conninfo");
        use(both_);
    }
    ~PgPair() {
        unsetenv("PGCS_TEST_PG_CONNINFO");
        std::system(("bash " PGCS_SOURCE_DIR "/tests/fault/pg_pair.sh destroy " + dir_).c_str());
    }
    PgPair(const PgPair&) = delete;
    PgPair& operator=(const PgPair&) = delete;

    const std::string& primary() const { return primary_; }
    const std::string& standby() const { return standby_; }
    const std::string& both() const { return both_; }
    // What pg_conninfo() (the fixtures' server) returns from now on.
    static void use(const std::string& conninfo) {
        setenv("PGCS_TEST_PG_CONNINFO", conninfo.c_str(), 1);
    }
    void stop_primary() { script("stop-primary " + dir_); }
    void promote() { script("promote " + dir_); }

  private:
    static void script(const std::string& args) {
        const std::string cmd = "bash " PGCS_SOURCE_DIR "/tests/fault/pg_pair.sh " + args;
        INFO(cmd);
        REQUIRE(std::system(cmd.c_str()) == 0);
    }
    std::string dir_;
    std::string primary_;
    std::string standby_;
    std::string both_;
};

std::string tail(const std::string& s) {
    return s.size() > 8000 ? s.substr(s.size() - 8000) : s;
}

unsigned seed() {
    static const unsigned s = std::random_device{}();
    return s;
}

// The fixture of a failover run: the ledger's table, a dev broker of its own (16 partitions, see
// scenarios_test.cpp), frequent heartbeats, quick reconnects.
struct FailoverRun {
    PrivateBroker broker;
    CaptureFixture fx{"CREATE TABLE {table} (id int8 PRIMARY KEY, v int8 NOT NULL)"};
    FailoverRun() {
        broker.command("topic " + fx.topic() + " 16");
        fx.brokers_override = broker.address;
        fx.postgres_extra = "  heartbeat_interval_ms: 500\n";
        fx.extra_config = "reconnect:\n  initial_backoff_ms: 100\n  max_backoff_ms: 1000\n";
    }
    std::string slot_query(const std::string& what) const {
        return "SELECT " + what + " FROM pg_replication_slots WHERE slot_name = '" + fx.slot() +
               "'";
    }
};

// `pgchangeset status` with the fixture's config: its output.
std::string status_of(CaptureFixture& fx) {
    const std::string log = "/tmp/pgcs-test-status-" + unique_suffix() + ".log";
    DaemonProcess status({bin_dir() + "/pgchangeset", "status", "--config", fx.config_path()}, log);
    return status.wait(seconds(60)).log;
}

}  // namespace

TEST_CASE(
    "PostgreSQL 17 failover under load: primary stopped -m immediate, standby promoted, the "
    "daemon follows the synced slot and loses nothing",
    "[fault][failover]") {
    const auto started = std::chrono::steady_clock::now();
    PgPair pair(17);
    FailoverRun run;
    run.fx.postgres_extra += "  failover: true\n";
    LoadGenerator load(pair.both(), run.fx.table(), seed());
    INFO("seed " << seed());
    run.fx.start_daemon();
    INFO("daemon log:\n" << tail(run.fx.daemon_log()));
    // The start-up checks saw the settings of both servers.
    CHECK(run.fx.wait_for_log("failover: slot_failover: true"));
    CHECK(run.fx.daemon_log().find("standby_sync_replication_slots: on") != std::string::npos);
    CHECK(run.fx.daemon_log().find("warning failover:") == std::string::npos);
    PgClient standby(pair.standby());
    REQUIRE(standby.wait_for(
        run.slot_query("synced AND NOT temporary"), [](const std::string& v) { return v == "t"; },
        seconds(60)));
    const std::string status = status_of(run.fx);
    INFO("status:\n" << status);
    CHECK(status.find("standby_slot_synced: yes") != std::string::npos);
    CHECK(status.find("problem") == std::string::npos);

    load.start();
    sleep_ms(4000);
    std::vector<std::uint64_t> flushes;
    {
        PgClient primary(pair.primary());
        flushes.push_back(parse_lsn(primary.value(run.slot_query("confirmed_flush_lsn"))));
    }
    pair.stop_primary();  // -m immediate, under load
    sleep_ms(1000);
    pair.promote();
    REQUIRE(run.fx.wait_for_log("a standby was promoted", seconds(60)));
    REQUIRE(run.fx.wait_for_log("resuming from slot", seconds(60)));
    sleep_ms(4000);  // the load goes on, on the promoted server
    load.stop();
    PgClient promoted(pair.both());
    CHECK(promoted.value("SELECT pg_is_in_recovery()") == "f");
    const std::string target = promoted.value("SELECT pg_current_wal_lsn()");
    CHECK(promoted.wait_for(
        run.slot_query("confirmed_flush_lsn >= '" + target + "'::pg_lsn"),
        [](const std::string& v) { return v == "t"; }, seconds(60)));
    flushes.push_back(parse_lsn(promoted.value(run.slot_query("confirmed_flush_lsn"))));
    const auto result =
        pgcs::fault::check(run.broker.address, run.fx.topic(), load.ledger(), flushes);
    for (const auto& p : result.problems) {
        UNSCOPED_INFO(p);
    }
    const auto took =
        std::chrono::duration_cast<seconds>(std::chrono::steady_clock::now() - started).count();
    std::ostringstream row;
    row << "| PostgreSQL 17 failover (primary -m immediate, standby promoted) | 1 | "
        << result.changes << " | " << result.events << " | " << result.lost << " | "
        << result.duplicates << " | - | " << took << " s |";
    WARN(row.str());
    if (const char* path = std::getenv("PGCS_FAULT_SUMMARY")) {
        std::ofstream(path, std::ios::app) << row.str() << "\n";
    }
    REQUIRE(result.dropped_by_broker == 0);
    CHECK(result.changes > 0);
    CHECK(load.reconnects() >= 1);
    CHECK(result.lost == 0);            // I1
    CHECK(result.out_of_order == 0);    // I2
    CHECK(result.lost_below_ack == 0);  // I3
    CHECK(result.from_rollback == 0);   // I4: nothing the promoted server does not have
    CHECK(run.fx.daemon_running());
    CHECK(run.fx.stop_daemon(SIGTERM).exit_code == 0);
}

TEST_CASE(
    "PostgreSQL 16 failover: postgres.failover refused with exit 2, and after a promotion the "
    "slot is missing: exit 1 naming it, no slot created",
    "[fault][failover]") {
    PgPair pair(16);
    FailoverRun run;
    {
        CaptureFixture& fx = run.fx;
        fx.postgres_extra += "  failover: true\n";
        fx.start_daemon(false);
        const auto refused = fx.daemon().wait(seconds(60));
        INFO(refused.log);
        CHECK(refused.exit_code == 2);
        CHECK(refused.log.find("postgres.failover needs PostgreSQL 17") != std::string::npos);
        fx.postgres_extra = "  heartbeat_interval_ms: 500\n";
    }
    LoadGenerator load(pair.both(), run.fx.table(), seed());
    run.fx.start_daemon();
    load.start();
    sleep_ms(3000);
    pair.stop_primary();
    sleep_ms(1000);
    pair.promote();
    const auto stopped = run.fx.daemon().wait(seconds(90));
    INFO(tail(stopped.log));
    CHECK(stopped.exit_code == 1);
    CHECK(stopped.log.find("does not exist on the promoted server") != std::string::npos);
    CHECK(stopped.log.find("Not creating a new slot") != std::string::npos);
    load.stop();
    PgClient promoted(pair.both());
    CHECK(promoted.value(run.slot_query("count(*)")) == "0");
}

TEST_CASE(
    "decoding from a PostgreSQL 17 standby: no heartbeat written there, rows written on the "
    "primary reach Kafka, the slot advances",
    "[fault][standby]") {
    PgPair pair(17);
    FailoverRun run;
    CaptureFixture& fx = run.fx;
    fx.exec("CREATE PUBLICATION " + fx.slot() + " FOR TABLE {table}");
    PgClient primary(pair.primary());
    PgClient standby(pair.standby());
    // The publication reached the standby.
    REQUIRE(
        standby.wait_for("SELECT count(*) FROM pg_publication WHERE pubname = '" + fx.slot() + "'",
                         [](const std::string& v) { return v == "1"; }));
    PgPair::use(pair.standby());  // the daemon's conninfo
    fx.start_daemon(false);
    PgPair::use(pair.primary());  // the fixture's clean-up
    REQUIRE(fx.wait_for_log("creating replication slot " + fx.slot() + " on a standby"));
    // The slot is made once the primary logs its running transactions.
    bool streaming = false;
    for (int i = 0; i < 120 && !streaming; ++i) {
        primary.exec("SELECT pg_log_standby_snapshot()");
        sleep_ms(500);
        streaming = fx.daemon_log().find("streaming slot") != std::string::npos;
    }
    INFO("daemon log:\n" << tail(fx.daemon_log()));
    REQUIRE(streaming);
    CHECK(fx.daemon_log().find("reaches a standby (pg_is_in_recovery): no heartbeat") !=
          std::string::npos);
    primary.exec("INSERT INTO " + fx.table() + " SELECT g, g * 10 FROM generate_series(1, 100) g");
    const std::string written = primary.value("SELECT pg_current_wal_lsn()");
    KafkaReader reader(run.broker.address);
    const auto records = reader.read(fx.topic(), 100, seconds(60));
    REQUIRE(records.size() == 100);
    for (std::size_t i = 0; i < records.size(); ++i) {
        const auto d = parse_json(records[i].value);
        CHECK(std::string(d["op"].GetString()) == "added");
        CHECK(d["after"]["v"].GetInt64() == d["key"]["id"].GetInt64() * 10);
    }
    // The slot on the standby moves past the insert (acknowledged), with no heartbeat of ours.
    CHECK(standby.wait_for(
        "SELECT confirmed_flush_lsn >= '" + written +
            "'::pg_lsn FROM pg_replication_slots "
            "WHERE slot_name = '" +
            fx.slot() + "'",
        [](const std::string& v) { return v == "t"; }, seconds(60)));
    sleep_ms(2000);  // several heartbeat intervals (500 ms): none tried, the stream stays up
    CHECK(fx.daemon_log().find("reconnecting in") == std::string::npos);
    const std::string status = status_of(fx);
    INFO("status:\n" << status);
    CHECK(status.find("in_recovery: yes") != std::string::npos);
    CHECK(status.find("slot_exists: yes") != std::string::npos);
    // The standby promoted: its own slot (made there, not synced) goes on, on the new timeline.
    pair.stop_primary();
    pair.promote();
    PgClient promoted(pair.standby());
    // Its walsender may outlive the promotion: a reconnect shows the daemon the new timeline.
    promoted.exec(
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE "
        "slot_name = '" +
        fx.slot() + "' AND active");
    CHECK(fx.wait_for_log("a standby was promoted", seconds(60)));
    CHECK(fx.wait_for_log("resuming from slot", seconds(60)));
    promoted.exec("INSERT INTO " + fx.table() +
                  " SELECT g, g * 10 FROM generate_series(101, 110) g");
    const auto after = reader.read(fx.topic(), 110, seconds(60));
    CHECK(after.size() == 110);
    CHECK(fx.daemon_running());
    const auto stopped = fx.stop_daemon(SIGTERM);
    CHECK(stopped.exit_code == 0);
}

TEST_CASE(
    "PostgreSQL 17: a slot made without failover gets it at start with postgres.failover, and "
    "the standby's copy is synced",
    "[fault][failover]") {
    PgPair pair(17);
    FailoverRun run;
    run.fx.postgres_extra += "  failover: true\n";
    PgClient primary(pair.primary());
    primary.exec("SELECT pg_create_logical_replication_slot('" + run.fx.slot() + "', 'pgoutput')");
    REQUIRE(primary.value(run.slot_query("failover")) == "f");
    run.fx.start_daemon();
    INFO("daemon log:\n" << tail(run.fx.daemon_log()));
    CHECK(run.fx.wait_for_log("was not a failover slot: set FAILOVER true"));
    CHECK(run.fx.wait_for_log("failover: slot_failover: true"));
    CHECK(primary.value(run.slot_query("failover")) == "t");
    PgClient standby(pair.standby());
    CHECK(standby.wait_for(
        run.slot_query("synced AND NOT temporary"), [](const std::string& v) { return v == "t"; },
        seconds(60)));
    const std::string status = status_of(run.fx);
    INFO("status:\n" << status);
    CHECK(status.find("slot_failover: true") != std::string::npos);
    CHECK(status.find("standby_slot_synced: yes") != std::string::npos);
    CHECK(run.fx.stop_daemon(SIGTERM).exit_code == 0);
}
