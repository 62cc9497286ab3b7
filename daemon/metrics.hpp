// The daemon's metrics, written by the stream loop and read by the HTTP server's threads, and
// their Prometheus text exposition (format 0.0.4).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace pgcs::daemon {

class Metrics {
  public:
    // One event of `op` on `table` handed to Kafka, `bytes` of key and value.
    void count_event(std::string_view op, std::string_view table, std::size_t bytes);
    void count_kafka_error() { kafka_errors_.fetch_add(1, std::memory_order_relaxed); }
    // target: "postgres" or "kafka".
    void count_reconnect(std::string_view target);

    void set_streaming(bool on) { up_.store(on ? 1 : 0, std::memory_order_relaxed); }
    void set_lag_seconds(double s) { lag_seconds_.store(s, std::memory_order_relaxed); }
    void set_lag_bytes(std::uint64_t b) { lag_bytes_.store(b, std::memory_order_relaxed); }
    void set_slot_retained_wal_bytes(std::uint64_t b) {
        retained_.store(b, std::memory_order_relaxed);
    }
    void set_kafka_inflight(std::uint64_t n) { inflight_.store(n, std::memory_order_relaxed); }

    bool streaming() const { return up_.load(std::memory_order_relaxed) == 1; }
    double lag_seconds() const { return lag_seconds_.load(std::memory_order_relaxed); }

    // The whole exposition, every metric with HELP and TYPE.
    std::string render() const;

  private:
    // (op, table) -> counter. The loop looks the last pair up first: events of one table come
    // in runs, so the map is rarely searched.
    mutable std::mutex events_mutex_;
    std::map<std::pair<std::string, std::string>, std::uint64_t, std::less<>> events_;
    std::atomic<std::uint64_t> bytes_{0};
    std::atomic<std::uint64_t> kafka_errors_{0};
    std::atomic<std::uint64_t> reconnects_postgres_{0};
    std::atomic<std::uint64_t> reconnects_kafka_{0};
    std::atomic<int> up_{0};
    std::atomic<double> lag_seconds_{0};
    std::atomic<std::uint64_t> lag_bytes_{0};
    std::atomic<std::uint64_t> retained_{0};
    std::atomic<std::uint64_t> inflight_{0};
};

}  // namespace pgcs::daemon
