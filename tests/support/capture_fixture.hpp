// One capture scenario: a table of its own, a daemon streaming it to its own topic prefix, an
// independent consumer, and clean-up of the slot, publication and table afterwards.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <catch2/catch.hpp>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/kafka_reader.hpp"
#include "support/pg_client.hpp"
#include "support/test_env.hpp"

namespace pgcs::testing {

inline rapidjson::Document parse_json(const std::string& text) {
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    if (d.HasParseError()) {
        throw std::runtime_error("not JSON: " + text);
    }
    return d;
}

// Compact JSON text of a parsed value.
inline std::string json_text(const rapidjson::Value& v) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    v.Accept(w);
    return b.GetString();
}

class CaptureFixture {
  public:
    // `create_sql` uses {table} for the table's (unqualified) name.
    explicit CaptureFixture(const std::string& create_sql, const std::string& extra = "")
        : suffix_(unique_suffix()),
          table_("t_" + suffix_),
          slot_("pgcs_" + suffix_),
          prefix_("it_" + suffix_),
          pg_(pg_conninfo()) {
        extra_config = extra;
        // A per-version run (PGCS_TEST_PG_VERSION) must never pass on another version's server.
        if (const int wanted = pg_version_wanted(); wanted != 0) {
            const std::string found = pg_.value("SHOW server_version_num");
            INFO("PGCS_TEST_PG_VERSION=" << wanted << ", the server is " << found);
            REQUIRE(std::stoi(found) / 10000 == wanted);
        }
        pg_.exec(replace_table(create_sql));
    }

    ~CaptureFixture() {
        daemon_.reset();
        try {
            // A fresh connection: a fault test may have restarted PostgreSQL under pg_.
            PgClient pg(pg_conninfo());
            // The walsender of a daemon just stopped may hold the slot a moment longer: a slot
            // left behind would count against max_replication_slots for the rest of the run.
            pg.wait_for(
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot_ +
                    "' AND active",
                [](const std::string& v) { return v == "0"; }, std::chrono::seconds(10));
            pg.exec(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                "WHERE slot_name = '" +
                slot_ + "' AND NOT active");
            pg.exec("DROP PUBLICATION IF EXISTS " + slot_);
            pg.exec("DROP TABLE IF EXISTS " + table_ + " CASCADE");
        } catch (const std::exception& e) {
            WARN("clean-up: " << e.what());
        }
    }

    std::string config_text() const { return config_text({"public." + table_}); }

    std::string config_text(const std::vector<std::string>& tables) const {
        std::ostringstream y;
        y << "postgres:\n";
        y << "  conninfo: \"" << pg_conninfo() << conninfo_extra << "\"\n";
        y << "  slot: " << slot_ << "\n";
        y << "  publication: " << slot_ << "\n";
        y << "  tables:\n";
        for (const auto& t : tables) {
            y << "    - " << t << "\n";
        }
        y << postgres_extra;
        y << "kafka:\n";
        y << "  brokers: \"" << (brokers_override.empty() ? brokers() : brokers_override) << "\"\n";
        y << "  topic_prefix: " << prefix_ << "\n";
        y << kafka_extra;
        y << "log:\n";
        y << "  level: debug\n";
        y << extra_config;
        // Tests of other things start from an empty table or do not expect existing rows:
        // snapshots (the default mode, initial) have their own tests.
        if (extra_config.find("snapshot:") == std::string::npos) {
            y << "snapshot:\n  mode: never\n";
        }
        return y.str();
    }

    // Starts the daemon and waits until it streams the slot (so later writes are captured).
    void start_daemon(bool wait_active = true) {
        start_daemon_with_tables({"public." + table_}, wait_active);
    }

    void start_daemon_with_tables(const std::vector<std::string>& tables, bool wait_active = true) {
        config_path_ = write_temp_file("config.yaml", config_text(tables));
        const std::string& config = config_path_;
        log_path_ = "/tmp/pgcs-test-" + suffix_ + ".log";
        daemon_ = std::make_unique<DaemonProcess>(
            std::vector<std::string>{bin_dir() + "/pgchangeset", "run", "--config", config},
            log_path_);
        if (!wait_active) {
            return;
        }
        const bool active = pg_.wait_for(
            "SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot_ + "'",
            [](const std::string& v) { return v == "t"; });
        INFO("daemon log:\n" << daemon_->log());
        REQUIRE(active);
        // The slot is active while a backend still creates it (waiting for transactions that
        // run now, e.g. other tests'): a test that acts on the walsender needs it streaming.
        REQUIRE(wait_for_log("streaming slot"));
    }

    RunResult stop_daemon(int sig = SIGTERM) {
        RunResult r = daemon_->stop(sig);
        daemon_.reset();
        return r;
    }

    std::vector<Record> read(std::size_t count,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        KafkaReader reader(brokers());
        return reader.read(topic(), count, timeout);
    }

    std::string replace_table(std::string sql) const {
        for (auto pos = sql.find("{table}"); pos != std::string::npos; pos = sql.find("{table}")) {
            sql.replace(pos, 7, table_);
        }
        return sql;
    }
    void exec(const std::string& sql) { pg_.exec(replace_table(sql)); }

    std::string topic() const { return prefix_ + ".public." + table_; }

    // Lines added inside the postgres: and kafka: sections (two-space indented YAML), and a
    // broker list that replaces the test broker.
    std::string postgres_extra;
    std::string kafka_extra;
    // Appended to the conninfo, e.g. " options='-c logical_decoding_work_mem=64kB'".
    std::string conninfo_extra;
    std::string brokers_override;
    // Top-level YAML appended to the config (e.g. a metrics: section).
    std::string extra_config;
    const std::string& table() const { return table_; }
    const std::string& prefix() const { return prefix_; }
    const std::string& slot() const { return slot_; }
    PgClient& pg() { return pg_; }
    DaemonProcess& daemon() { return *daemon_; }
    const std::string& config_path() const { return config_path_; }
    bool daemon_running() { return daemon_ && daemon_->running(); }
    // Waits until the daemon's log contains `text`.
    bool wait_for_log(const std::string& text,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (daemon_log().find(text) != std::string::npos) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }
    std::string daemon_log() const { return read_file(log_path_); }

  private:
    std::string suffix_;
    std::string table_;
    std::string slot_;
    std::string prefix_;
    PgClient pg_;
    std::string log_path_;
    std::string config_path_;
    std::unique_ptr<DaemonProcess> daemon_;
};

}  // namespace pgcs::testing
