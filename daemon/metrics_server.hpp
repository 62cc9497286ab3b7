// /metrics, /healthz and /readyz over HTTP with civetweb (Debian's libcivetweb), on
// metrics.listen. Requests are served on civetweb's own threads (64, each request bounded to
// 2 s), reading Metrics only.
#pragma once

#include <string>

#include "config/web_config.hpp"
#include "daemon/metrics.hpp"

struct mg_context;

namespace pgcs::daemon {

class MetricsServer {
  public:
    // Listens on "host:port" (IPv4 address or host name; IPv6 only if civetweb was built with
    // it, which Debian's is not). Throws std::runtime_error naming the address when it cannot
    // listen (port in use, bad address, IPv6 without IPv6 support).
    // `web` (metrics.web_config_file): TLS and basic auth, parsed by config/web_config.hpp.
    MetricsServer(const std::string& listen, const Metrics& metrics, double ready_max_lag_seconds,
                  config::WebConfig web = {});
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    const Metrics& metrics() const { return metrics_; }
    double ready_max_lag_seconds() const { return ready_max_lag_seconds_; }
    const config::WebConfig& web() const { return web_; }

  private:
    const Metrics& metrics_;
    double ready_max_lag_seconds_;
    config::WebConfig web_;
    mg_context* ctx_ = nullptr;
};

}  // namespace pgcs::daemon
