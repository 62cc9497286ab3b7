// The replica check: a consumer that follows the README's consumer rules applies every partition
// of every topic on its own, in offset order, to a second database, which must then hold exactly
// the source's rows. The source has rows before the daemon starts (snapshot.mode initial, read
// while the writers run) and gets four concurrent writers (unchanged and changed TOAST under
// REPLICA IDENTITY DEFAULT and FULL, key changes of a composite key, savepoints rolled back,
// TRUNCATE, jsonb null next to SQL NULL, float -0) and one streamed 200,000-row transaction;
// the daemon is killed with -9 in the middle and later stopped with SIGTERM, restarted each time.
//
// PGCS_REPLICA_CHECK_CONTRACT=1 runs the load contract v1 can replicate (no key changes,
// TRUNCATE, JSON null or -0; no tombstone or header checks; no kafka.tombstones key).
#include <signal.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <optional>
#include <random>
#include <thread>

#include "support/capture_fixture.hpp"
#include "support/private_broker.hpp"
#include "support/replica_applier.hpp"
#include "support/replica_compare.hpp"
#include "support/replica_load.hpp"

using namespace pgcs::testing;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

int contract_under_test() {
    return env_or("PGCS_REPLICA_CHECK_CONTRACT", "2") == "1" ? 1 : 2;
}

ReplicaFeatures features_for(int contract) {
    ReplicaFeatures f;
    if (contract == 1) {
        f.key_changes = f.truncates = f.json_null = f.negative_zero = false;
    }
    return f;
}

// The source tables, slot and publication, the daemon's runs, and the target database; all
// dropped at the end.
class ReplicaRun {
  public:
    explicit ReplicaRun(bool tombstones)
        : suffix_(unique_suffix()),
          slot_("pgcs_" + suffix_),
          prefix_("rc_" + suffix_),
          target_db_("replica_" + suffix_),
          tombstones_(tombstones),
          contract_(contract_under_test()),
          load_("rc_" + suffix_, features_for(contract_)),
          source_(pg_conninfo()) {
        load_.prepare_source(source_);
        source_.exec("CREATE DATABASE " + target_db_);
        target_.emplace(pg_conninfo() + " dbname=" + target_db_);
        for (const auto& sql : load_.create_sql()) {
            target_->exec(sql);
        }
        for (const auto& t : load_.tables()) {
            target_->exec("ALTER TABLE " + t.name + " ADD COLUMN _partition int4");
        }
        brokers_ = brokers();
        if (broker_kind() == "devbroker") {
            // A broker of the test's own: the mock keeps at most 5 MB of batches a partition,
            // so every topic gets 16 partitions (room for the 200,000-row transaction twice).
            broker_.emplace();
            brokers_ = broker_->address;
            for (const auto& t : load_.tables()) {
                broker_->command("topic " + topic(t.name) + " 16");
            }
        }
    }

    ~ReplicaRun() {
        load_.join();  // writers left running by a failed REQUIRE
        daemon_.reset();
        try {
            target_.reset();
            PgClient pg(pg_conninfo());
            pg.wait_for(
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot_ +
                    "' AND active",
                [](const std::string& v) { return v == "0"; }, seconds(10));
            pg.exec(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                "WHERE slot_name = '" +
                slot_ + "' AND NOT active");
            pg.exec("DROP PUBLICATION IF EXISTS " + slot_);
            for (const auto& t : load_.tables()) {
                pg.exec("DROP TABLE IF EXISTS " + t.name);
            }
            pg.exec("DROP FUNCTION IF EXISTS " + prefix_ + "_big()");
            pg.exec("DROP DATABASE IF EXISTS " + target_db_ + " WITH (FORCE)");
            // Absent when the daemon never got as far as the snapshot.
            pg.try_exec("DELETE FROM pgchangeset_snapshots WHERE slot_name = '" + slot_ + "'");
        } catch (const std::exception& e) {
            WARN("clean-up: " << e.what());
        }
    }

    std::string topic(const std::string& table) const { return prefix_ + ".public." + table; }

    std::string config() const {
        std::ostringstream y;
        // Transactions over 64 kB of decoded changes are streamed; buffers over 16 MB spill.
        y << "postgres:\n  conninfo: \"" << pg_conninfo()
          << " options='-c logical_decoding_work_mem=64kB'\"\n  slot: " << slot_
          << "\n  publication: " << slot_ << "\n  tables:\n";
        for (const auto& t : load_.tables()) {
            y << "    - public." << t.name << "\n";
        }
        y << "kafka:\n  brokers: \"" << brokers_ << "\"\n  topic_prefix: " << prefix_ << "\n";
        if (!tombstones_ && contract_ >= 2) {
            y << "  tombstones: false\n";  // on is the default (v1 has no such key)
        }
        y << "buffer:\n  memory_limit: 16MB\n";
        y << "snapshot:\n  mode: initial\n  chunk_size: 100\n";
        y << "log:\n  level: info\n";
        return y.str();
    }

    // Starts a run of the daemon and waits until it streams the slot.
    void start_daemon() {
        REQUIRE(source_.wait_for(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot_ +
                "' AND active",
            [](const std::string& v) { return v == "0"; }, seconds(30)));
        if (config_path_.empty()) {
            config_path_ = write_temp_file("replica.yaml", config());
        }
        const std::string log = logs() + std::to_string(++runs_) + ".log";
        daemon_ = std::make_unique<DaemonProcess>(
            std::vector<std::string>{bin_dir() + "/pgchangeset", "run", "--config", config_path_},
            log);
        const auto deadline = Clock::now() + seconds(60);
        while (daemon_->log().find("streaming slot") == std::string::npos && daemon_->running() &&
               Clock::now() < deadline) {
            std::this_thread::sleep_for(milliseconds(50));
        }
        INFO("daemon run " << runs_ << " log:\n" << daemon_->log());
        REQUIRE(daemon_->log().find("streaming slot") != std::string::npos);
    }

    RunResult stop_daemon(int sig) {
        RunResult r = daemon_->stop(sig);
        daemon_.reset();
        return r;
    }

    // Every table's snapshot done and a last transaction acknowledged by Kafka: every event of
    // the run is in Kafka.
    void wait_caught_up() {
        REQUIRE(source_.wait_for(
            "SELECT count(*) FILTER (WHERE state = 'done') FROM pgchangeset_snapshots WHERE "
            "slot_name = '" +
                slot_ + "'",
            [&](const std::string& v) { return v == std::to_string(load_.tables().size()); },
            seconds(120)));
        const std::string e = load_.table('e');
        source_.exec("INSERT INTO " + e + " VALUES (-1, '{\"end\": true}', 1)");
        std::string commit_lsn;
        KafkaReader reader(brokers_);
        for (const auto deadline = Clock::now() + seconds(120);
             commit_lsn.empty() && Clock::now() < deadline;) {
            reader.visit_to_end(topic(e), [&](Record&& r) {
                if (!r.null_value && r.key == std::string("{\"id\":-1}")) {
                    commit_lsn = parse_json(r.value)["commit_lsn"].GetString();
                }
            });
            if (commit_lsn.empty()) {
                std::this_thread::sleep_for(milliseconds(200));
            }
        }
        REQUIRE_FALSE(commit_lsn.empty());
        REQUIRE(source_.wait_for(
            "SELECT confirmed_flush_lsn >= '" + commit_lsn +
                "' FROM pg_replication_slots WHERE slot_name = '" + slot_ + "'",
            [](const std::string& v) { return v == "t"; }, seconds(60)));
    }

    ReplicaLoad& load() { return load_; }
    PgClient& source() { return source_; }
    PgClient& target() { return *target_; }
    const std::string& brokers_address() const { return brokers_; }
    // The daemon's logs: this, then the run's number and ".log".
    std::string logs() const { return "/tmp/pgcs-test-" + suffix_ + "-run"; }
    int contract() const { return contract_; }
    bool tombstones() const { return tombstones_; }

  private:
    std::string suffix_;
    std::string slot_;
    std::string prefix_;
    std::string target_db_;
    bool tombstones_;
    int contract_;
    ReplicaLoad load_;
    PgClient source_;
    std::optional<PgClient> target_;
    std::optional<PrivateBroker> broker_;
    std::string brokers_;
    std::string config_path_;
    std::unique_ptr<DaemonProcess> daemon_;
    int runs_ = 0;
};

void wait_until(const std::function<bool()>& condition, seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!condition() && Clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(20));
    }
}

void replica_check(bool tombstones) {
    const auto started = Clock::now();
    ReplicaRun run(tombstones);
    ReplicaLoad& load = run.load();
    run.start_daemon();  // the initial snapshot starts, the writers with it

    const unsigned seed = std::random_device{}();
    load.start(4, 1000, seed, pg_conninfo());
    std::atomic<bool> bulk_done{false};
    std::string bulk_error;  // written before bulk_done
    std::thread bulk([&] {
        wait_until([&] { return load.progress() >= 0.15; }, seconds(120));
        try {
            PgClient pg(pg_conninfo());
            load.run_bulk(pg);
        } catch (const std::exception& e) {
            bulk_error = e.what();
        }
        bulk_done = true;
    });
    struct Join {  // also when a REQUIRE below ends the test early
        std::thread& thread;
        ~Join() { thread.join(); }
    } join_bulk{bulk};
    // kill -9 while the daemon publishes the large transaction (a quarter of it is in Kafka);
    // later a clean stop.
    wait_until([&] { return bulk_done.load(); }, seconds(180));
    REQUIRE(bulk_done);
    INFO("the large transaction: " << bulk_error.substr(0, 300));
    REQUIRE(bulk_error.empty());
    KafkaReader watch(run.brokers_address());
    const std::string bulk_topic = run.topic(load.table('f'));
    wait_until([&] { return watch.records_written(bulk_topic) >= ReplicaLoad::kBulkRows / 4; },
               seconds(60));
    run.stop_daemon(SIGKILL);
    run.start_daemon();
    const auto restarted = Clock::now();
    wait_until([&] { return load.progress() >= 0.75 && Clock::now() - restarted > seconds(1); },
               seconds(120));
    CHECK(run.stop_daemon(SIGTERM).exit_code == 0);
    run.start_daemon();
    load.join();
    const std::string load_report = load.report();
    run.wait_caught_up();
    CHECK(run.stop_daemon(SIGTERM).exit_code == 0);
    const auto loaded = Clock::now();

    // The consumer: every topic, each partition in offset order (records of one partition
    // arrive in order; partitions interleave as they come).
    ReplicaApplier applier(run.target(),
                           run.contract() >= 2 ? std::optional<bool>(tombstones) : std::nullopt);
    KafkaReader reader(run.brokers_address());
    for (const auto& t : load.tables()) {
        // Applying row by row is slow under the sanitizers: the large table's topic (about
        // 300,000 records with the kill -9's repeats) took over 120 s there once.
        reader.visit_to_end(
            run.topic(t.name), [&](Record&& r) { applier.apply(r); }, seconds(240));
    }
    applier.finish();
    const auto applied = Clock::now();
    const ApplyCounts& n = applier.counts();
    std::ostringstream summary;
    summary << "replica check (contract " << run.contract() << ", " << broker_kind()
            << ", tombstones " << (tombstones ? "on" : "off") << ", seed " << seed
            << "): " << load_report << "; " << n.records << " records, " << n.duplicates
            << " duplicates dropped, " << n.tombstones << " tombstones, " << n.contract_headers
            << " events of contract 2, " << n.other_contract << " with another, " << n.key_changes
            << " key changes (added with before), " << n.key_changing_modified
            << " key-changing modified, " << n.json_nulls << " JSON nulls; ops:";
    for (const auto& [op, count] : n.ops) {
        summary << " " << op << " " << count;
    }
    summary << "; load+catch-up " << std::chrono::duration<double>(loaded - started).count()
            << " s, consume+apply " << std::chrono::duration<double>(applied - loaded).count()
            << " s; daemon logs " << run.logs() << "*.log";
    std::cout << summary.str() << std::endl;
    INFO(summary.str());
    auto op_count = [&](const char* op) { return n.ops.count(op) == 0 ? 0 : n.ops.at(op); };
    CHECK(reader.dropped() == 0);  // the broker kept every record
    for (const auto& p : applier.problems()) {
        UNSCOPED_INFO(p);
    }
    CHECK(applier.problem_count() == 0);
    CHECK(op_count("read") > 0);  // the snapshot was seen
    CHECK(n.duplicates > 0);      // the kill -9 sent some transactions again
    if (run.contract() >= 2) {
        CHECK(n.contract_headers == n.records - n.tombstones);  // every event says version 2
        CHECK(n.key_changes > 0);
        CHECK(n.key_changing_modified == 0);
        // Each committed TRUNCATE (two; a third is rolled back to a savepoint) on every partition.
        const auto partitions =
            reader.watermarks(run.topic(load.table('d')), Clock::now() + seconds(30)).size();
        CHECK(load.truncates() > 0);
        CHECK(op_count("truncated") == static_cast<std::size_t>(load.truncates()) * partitions);
        CHECK(n.json_nulls > 0);
        CHECK((n.tombstones > 0) == tombstones);
    }

    for (const auto& t : load.tables()) {
        const std::string difference = compare_replica(run.source(), run.target(), t);
        INFO(difference);
        CHECK(difference.empty());
    }
}

}  // namespace

TEST_CASE(
    "replica check: a consumer applying each partition in order rebuilds every table "
    "(tombstones on)",
    "[replica]") {
    replica_check(true);
}

TEST_CASE(
    "replica check: a consumer applying each partition in order rebuilds every table "
    "(tombstones off)",
    "[replica]") {
    replica_check(false);
}
