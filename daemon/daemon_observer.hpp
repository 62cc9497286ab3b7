// What the stream loop reports, turned into metrics, systemd notifications and log-level
// reloads. The loop itself knows nothing of HTTP or systemd.
#pragma once

#include <chrono>
#include <string>

#include "daemon/metrics.hpp"
#include "daemon/stream_loop.hpp"
#include "daemon/systemd_notify.hpp"

namespace pgcs::daemon {

class DaemonObserver : public StreamObserver {
  public:
    // On reload (SIGHUP) `config_path` is re-read for log.level, unless `log_level_override`
    // (--log-level) is set.
    DaemonObserver(Metrics& metrics, SystemdNotifier& notifier, std::string config_path,
                   std::string log_level_override);

    void state(std::string_view line) override;
    void streaming(bool on) override;
    void events(std::string_view op, std::string_view table, std::uint64_t count,
                std::size_t bytes) override;
    void progress(const StreamProgress& p) override;
    void kafka_error() override;
    void reconnect(std::string_view target) override;
    void reload() override;
    void snapshot_rows(std::string_view table, std::uint64_t rows) override {
        metrics_.count_snapshot_rows(table, rows);
    }
    void snapshot_tables_remaining(std::size_t tables) override {
        metrics_.set_snapshot_tables_remaining(tables);
    }
    void halted(const HaltInfo& info) override;
    // Halted is not stuck: the watchdog is kicked, systemd does not restart the daemon.
    void halted_waiting() override { notifier_.kick_watchdog(); }
    void resumed() override { metrics_.clear_halted(); }

  private:
    Metrics& metrics_;
    SystemdNotifier& notifier_;
    std::string config_path_;
    std::string log_level_override_;
    bool ready_sent_ = false;
    std::string state_ = "starting";
    std::chrono::steady_clock::time_point last_status_{};
};

}  // namespace pgcs::daemon
