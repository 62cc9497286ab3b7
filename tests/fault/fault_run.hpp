// The fault scenarios' harness: one FaultRun is the ledger table, the daemon, the load
// generator and a sampler of the slot's confirmed_flush_lsn and the daemon's RSS; finish()
// checks the invariants of ledger.hpp. Shared by the scenario files of tests/fault.
#pragma once

#include <signal.h>

#include <fstream>
#include <random>

#include "fault/ledger.hpp"
#include "support/capture_fixture.hpp"
#include "support/private_broker.hpp"

namespace pgcs::fault {

using namespace pgcs::testing;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

inline unsigned seed() {
    static const unsigned s = std::random_device{}();
    return s;
}

// One scenario: the ledger table, the daemon, the generator and a sampler of the slot's
// confirmed_flush_lsn and the daemon's RSS.
class FaultRun {
  public:
    // On Apache Kafka at `brokers`, or on a dev broker: `broker`, or one of its own.
    explicit FaultRun(std::string name, const std::string& brokers = "",
                      LoadGenerator::Shape shape = {})
        : FaultRun(std::move(name), brokers, nullptr, shape) {}
    FaultRun(std::string name, PrivateBroker& broker, LoadGenerator::Shape shape = {})
        : FaultRun(std::move(name), broker.address, &broker, shape) {}

  private:
    FaultRun(std::string name, const std::string& brokers, PrivateBroker* broker,
             LoadGenerator::Shape shape)
        : name_(std::move(name)),
          fx_("CREATE TABLE {table} (id int8 PRIMARY KEY, v int8 NOT NULL)"),
          gen_(pg_conninfo(), fx_.table(), seed(), shape),
          brokers_(brokers.empty() ? pgcs::testing::brokers() : brokers) {
        fx_.brokers_override = brokers;
        if (broker == nullptr && brokers.empty() && pgcs::testing::broker_kind() == "devbroker") {
            own_broker_.emplace();
            broker = &*own_broker_;
            brokers_ = broker->address;
            fx_.brokers_override = brokers_;
        }
        if (broker != nullptr) {
            // 16 partitions: librdkafka's mock keeps at most 5 MB of batches a partition, and
            // the 4 it creates a topic with overflow under this load.
            broker->command("topic " + fx_.topic() + " 16");
        }
        // Frequent heartbeats: the slot passes any position soon after the load stops.
        fx_.postgres_extra = "  heartbeat_interval_ms: 500\n";
        fx_.extra_config = "reconnect:\n  initial_backoff_ms: 100\n  max_backoff_ms: 2000\n";
        INFO("seed " << seed());
    }

  public:
    ~FaultRun() { stop_sampler(); }

    CaptureFixture& fx() { return fx_; }
    const std::string& brokers() const { return brokers_; }
    LoadGenerator& load() { return gen_; }

    void start() {
        start_daemon();
        sampling_ = true;
        sampler_ = std::thread([this] { sample(); });
        gen_.start();
    }
    // `wait_active`: until it streams the slot (not while Kafka is down: it waits for Kafka).
    void start_daemon(bool wait_active = true) {
        fx_.start_daemon(wait_active);
        daemon_pid_ = fx_.daemon().pid();
    }
    RunResult stop_daemon(int sig) {
        daemon_pid_ = 0;
        ++faults_;
        return fx_.stop_daemon(sig);
    }
    void fault() { ++faults_; }
    std::vector<std::uint64_t> flushes() {
        std::lock_guard lock(mu_);
        return flushes_;
    }

    // Stops the load; true once the slot (whichever daemon streams it) passed the WAL written.
    bool caught_up(seconds timeout) {
        gen_.stop();
        PgClient pg(pg_conninfo());
        const std::string target = pg.value("SELECT pg_current_wal_lsn()");
        return pg.wait_for(
            "SELECT confirmed_flush_lsn >= '" + target +
                "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + fx_.slot() + "'",
            [](const std::string& v) { return v == "t"; }, timeout);
    }

    // True once `standby` (a second daemon on the slot) streams it, within 30 s.
    static bool took_over(DaemonProcess& standby) {
        for (int i = 0; i < 300; ++i) {
            if (standby.log().find("streaming slot") != std::string::npos) {
                return true;
            }
            std::this_thread::sleep_for(milliseconds(100));
        }
        return false;
    }

    // Stops the load, lets the daemon catch up, checks I1-I4 and memory, reports; returns the
    // check's counts.
    pgcs::fault::CheckResult finish() {
        const bool done = caught_up(seconds(180));
        INFO("daemon log:\n" << tail(fx_.daemon_log()));
        REQUIRE(done);
        const auto result = check_and_report();
        std::string problems;
        for (const auto& p : result.problems) {
            problems += p + "\n";
        }
        INFO("first problems:\n" << problems);
        // A broker that deleted records (the dev broker keeps 100,000 records or 5 MB per
        // partition) makes the check meaningless: fail as such, not as a loss.
        REQUIRE(result.dropped_by_broker == 0);
        CHECK(result.changes > 0);
        CHECK(result.lost == 0);            // I1
        CHECK(result.out_of_order == 0);    // I2
        CHECK(result.lost_below_ack == 0);  // I3
        CHECK(result.from_rollback == 0);   // I4
        CHECK(max_rss_kb_ > 0);
        CHECK(max_rss_kb_ < 300L * 1024);  // memory bounded
        return result;
    }

    // Stops the load and the sampler, reads the topic, checks it against the ledger and
    // prints (and appends to PGCS_FAULT_SUMMARY) the summary row.
    pgcs::fault::CheckResult check_and_report() {
        gen_.stop();
        stop_sampler();
        CHECK(sampler_error_.empty());
        const auto ledger = gen_.ledger();
        auto result = pgcs::fault::check(brokers_, fx_.topic(), ledger, flushes());
        std::ostringstream row;
        row << "| " << name_ << " | " << faults_ << " | " << result.changes << " | "
            << result.events << " | " << result.lost << " | " << result.duplicates << " | "
            << max_rss_kb_ / 1024 << " MB |";
        WARN(
            "scenario | faults | committed changes | events read | lost | duplicated | max "
            "RSS\n"
            << row.str());
        if (const char* path = std::getenv("PGCS_FAULT_SUMMARY")) {
            std::ofstream(path, std::ios::app) << row.str() << "\n";
        }
        return result;
    }

    static std::string tail(const std::string& s) {
        return s.size() > 6000 ? s.substr(s.size() - 6000) : s;
    }

  private:
    void sample() {
        try {
            sample_until_stopped();
        } catch (const std::exception& e) {  // never std::terminate: report it in finish()
            std::lock_guard lock(mu_);
            sampler_error_ = e.what();
        }
    }
    void sample_until_stopped() {
        Connection c(pg_conninfo());
        while (sampling_) {
            std::string lsn;
            if (c.exec("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" +
                           fx_.slot() + "'",
                       &lsn)) {
                std::lock_guard lock(mu_);
                flushes_.push_back(parse_lsn(lsn));
            } else {
                c.connect();
            }
            if (const pid_t pid = daemon_pid_; pid > 0) {
                std::ifstream in("/proc/" + std::to_string(pid) + "/status");
                for (std::string line; std::getline(in, line);) {
                    if (line.rfind("VmRSS:", 0) == 0) {
                        max_rss_kb_ = std::max(max_rss_kb_.load(), std::stol(line.substr(6)));
                    }
                }
            }
            std::this_thread::sleep_for(milliseconds(200));
        }
    }
    void stop_sampler() {
        sampling_ = false;
        if (sampler_.joinable()) {
            sampler_.join();
        }
    }

    std::string name_;
    CaptureFixture fx_;
    LoadGenerator gen_;
    std::optional<PrivateBroker> own_broker_;
    std::string brokers_;
    std::thread sampler_;
    std::atomic<bool> sampling_{false};
    std::atomic<pid_t> daemon_pid_{0};
    std::atomic<long> max_rss_kb_{0};
    std::mutex mu_;
    std::vector<std::uint64_t> flushes_;
    std::string sampler_error_;
    int faults_ = 0;
};

inline void sleep_ms(long ms) {
    std::this_thread::sleep_for(milliseconds(ms));
}

inline long random_ms(long from, long to) {
    static std::mt19937 rng(seed());
    return from + static_cast<long>(rng() % static_cast<unsigned>(to - from));
}

}  // namespace pgcs::fault
