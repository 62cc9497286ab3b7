// pgchangeset: the command line. `run` streams, `check-config` validates, `--version`.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "config/command_line.hpp"
#include "config/config.hpp"
#include "core/sink/kafka_sink.hpp"
#include "core/source/transaction_buffer.hpp"
#include "daemon/daemon_observer.hpp"
#include "daemon/metrics_server.hpp"
#include "daemon/sink_command.hpp"
#include "daemon/snapshot_command.hpp"
#include "daemon/source_setup.hpp"
#include "daemon/status_command.hpp"
#include "daemon/stream_loop.hpp"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

extern "C" void on_stop_signal(int /*sig*/) {
    g_stop.store(true);
}
extern "C" void on_reload_signal(int /*sig*/) {
    g_reload.store(true);
}

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: poll() returns at once
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sa.sa_handler = on_reload_signal;
    sigaction(SIGHUP, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

void setup_logging(const std::string& level) {
    // Colours only on a terminal (color_mode::automatic); UTC timestamps.
    auto logger = spdlog::stderr_color_mt("pgchangeset");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace

int main(int argc, char** argv) {
    using pgcs::daemon::kExitConfig;
    const pgcs::config::CommandLineResult parsed =
        pgcs::config::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    if (parsed.kind == pgcs::config::CommandLineResult::Kind::Version) {
        std::cout << "pgchangeset " << PGCS_VERSION << "\n";
        return 0;
    }
    if (parsed.kind == pgcs::config::CommandLineResult::Kind::Help) {
        std::cout << pgcs::config::kUsage;
        return 0;
    }
    if (parsed.kind == pgcs::config::CommandLineResult::Kind::Error) {
        std::cerr << parsed.error;
        return kExitConfig;
    }
    const pgcs::config::CommandLine& args = parsed.line;
    const bool history = args.command == "history";

    pgcs::config::Config config;
    try {
        config = pgcs::config::load_config_file(args.config);
    } catch (const pgcs::config::ConfigError& e) {
        for (const auto& p : e.problems()) {
            std::cerr << p.to_string() << "\n";
        }
        return kExitConfig;
    }
    if (args.command != "run") {
        for (const std::string& warning : config.warnings) {
            std::cerr << "pgchangeset: warning: " << warning << "\n";
        }
    }
    if (args.command == "check-config" || args.command == "run") {
        // How the properties combine (e.g. message.timeout.ms below linger.ms): librdkafka
        // decides, without connecting; `run` would refuse the same at start.
        try {
            pgcs::sink::KafkaSink::check_configuration(pgcs::daemon::sink_settings_from(config));
        } catch (const pgcs::sink::SinkConfigError& e) {
            std::cerr << args.config << ": " << e.what() << "\n";
            return kExitConfig;
        }
    }
    if (args.command == "check-config") {
        std::cout << args.config << ": ok\n";
        return 0;
    }
    if (args.command == "status") {
        return pgcs::daemon::run_status(config, std::cout);
    }
    if (history) {
        return pgcs::daemon::run_history(config, args.config,
                                         {args.table, args.key, args.as_of, isatty(1) == 1},
                                         std::cout, std::cerr);
    }
    if (args.command == "snapshot") {
        return pgcs::daemon::run_snapshot_request(config, args.table, args.where, std::cout,
                                                  std::cerr);
    }

    setup_logging(args.log_level.empty() ? config.log.level : args.log_level);
    install_signal_handlers();
    if (args.command == "sink") {
        return pgcs::daemon::run_sink(config, args.config, g_stop);
    }
    spdlog::info("pgchangeset {} starting", PGCS_VERSION);
    for (const std::string& warning : config.warnings) {
        spdlog::warn("{}", warning);
    }
    // Checked now, not when the first transaction over buffer.memory_limit arrives.
    if (auto problem = pgcs::source::spill_directory_problem(config.buffer.spill_directory)) {
        spdlog::error(
            "buffer.spill_directory: {}; transactions larger than buffer.memory_limit are "
            "written there: create the folder, make it writable by the daemon's user (under "
            "systemd, list it in ReadWritePaths= of the unit; /var/tmp is the unit's own "
            "private one), or set buffer.spill_directory to one that is",
            *problem);
        return kExitConfig;
    }
    pgcs::daemon::Metrics metrics;
    std::unique_ptr<pgcs::daemon::MetricsServer> metrics_server;
    if (!config.metrics.listen.empty()) {
        try {
            metrics_server = std::make_unique<pgcs::daemon::MetricsServer>(
                config.metrics.listen, metrics, config.metrics.ready_max_lag_seconds,
                config.metrics.web);
            spdlog::info("metrics on http{}://{}/metrics{}", config.metrics.web.tls() ? "s" : "",
                         config.metrics.listen,
                         config.metrics.web.basic_auth() ? " (basic auth)" : "");
        } catch (const std::exception& e) {
            spdlog::error("{}", e.what());
            return pgcs::daemon::kExitFailure;
        }
    }
    pgcs::daemon::SystemdNotifier notifier;
    pgcs::daemon::DaemonObserver observer(metrics, notifier, args.config, args.log_level);
    return pgcs::daemon::run_stream(config, {g_stop, g_reload}, observer);
}
