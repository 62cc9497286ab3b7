// Stream loop reports -> metrics, systemd (READY, STATUS, WATCHDOG) and SIGHUP reloads.
#include "daemon/daemon_observer.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "config/config.hpp"
#include "core/encode/changeset_encoder.hpp"

namespace pgcs::daemon {

DaemonObserver::DaemonObserver(Metrics& metrics, SystemdNotifier& notifier, std::string config_path,
                               std::string log_level_override)
    : metrics_(metrics),
      notifier_(notifier),
      config_path_(std::move(config_path)),
      log_level_override_(std::move(log_level_override)) {}

void DaemonObserver::state(std::string_view line) {
    state_ = std::string(line);
    notifier_.status(state_);
}

void DaemonObserver::streaming(bool on) {
    metrics_.set_streaming(on);
    if (!on && state_ == "stopping") {
        notifier_.stopping();
    }
    if (on && !ready_sent_) {
        notifier_.ready();
        ready_sent_ = true;
    }
}

void DaemonObserver::events(std::string_view op, std::string_view table, std::uint64_t count,
                            std::size_t bytes) {
    metrics_.count_events(op, table, count, bytes);
}

void DaemonObserver::progress(const StreamProgress& p) {
    metrics_.set_lag_seconds(p.lag_seconds);
    metrics_.set_lag_bytes(p.server_wal_end > p.flush_lsn ? p.server_wal_end - p.flush_lsn : 0);
    metrics_.set_kafka_inflight(p.in_flight);
    if (p.retained_wal_bytes >= 0) {
        metrics_.set_slot_retained_wal_bytes(static_cast<std::uint64_t>(p.retained_wal_bytes));
    }
    if (p.advancing) {
        notifier_.kick_watchdog();
    }
    const auto now = std::chrono::steady_clock::now();
    if (state_ == "streaming" && now - last_status_ > std::chrono::seconds(5)) {
        last_status_ = now;
        char line[160];
        std::snprintf(line, sizeof line, "streaming; acknowledged %s, lag %.1f s, %llu in flight",
                      format_lsn(p.flush_lsn).c_str(), p.lag_seconds,
                      static_cast<unsigned long long>(p.in_flight));
        notifier_.status(line);
    }
}

void DaemonObserver::halted(const HaltInfo& info) {
    metrics_.set_halted({info.reason, info.table, info.topic, info.key, info.bytes});
    notifier_.kick_watchdog();
}

void DaemonObserver::kafka_error() {
    metrics_.count_kafka_error();
}

void DaemonObserver::reconnect(std::string_view target) {
    metrics_.count_reconnect(target);
}

void DaemonObserver::reload() {
    if (!log_level_override_.empty()) {
        spdlog::info("SIGHUP: log level stays {} (set by --log-level)", log_level_override_);
        return;
    }
    try {
        const auto config = config::load_config_file(config_path_);
        // Say so whatever the old and new levels are, then apply the new one.
        spdlog::set_level(spdlog::level::info);
        spdlog::info("SIGHUP: log level is now {}; other changes need a restart", config.log.level);
        spdlog::set_level(spdlog::level::from_str(config.log.level));
    } catch (const config::ConfigError& e) {
        spdlog::error("SIGHUP: {} is not valid, nothing changed:\n{}", config_path_, e.what());
    }
}

}  // namespace pgcs::daemon
