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
    void count_events(std::string_view op, std::string_view table, std::uint64_t count,
                      std::size_t bytes);
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
    // Snapshot rows of `table` handed to Kafka.
    void count_snapshot_rows(std::string_view table, std::uint64_t rows);
    void set_snapshot_tables_remaining(std::uint64_t n) {
        snapshot_tables_.store(n, std::memory_order_relaxed);
    }

    // Halted on an event too large: why, and the event (README, "Halted on an event too
    // large"); cleared with clear_halted().
    struct Halted {
        std::string reason;  // broker_message_size, producer_message_max_bytes, ...
        std::string table;
        std::string topic;
        std::string key;
        std::uint64_t bytes = 0;
    };
    void set_halted(Halted h);
    void clear_halted();
    // The readiness line while halted ("" when not halted).
    std::string halted_line() const;

    bool streaming() const { return up_.load(std::memory_order_relaxed) == 1; }
    double lag_seconds() const { return lag_seconds_.load(std::memory_order_relaxed); }

    // The whole exposition, every metric with HELP and TYPE.
    std::string render() const;

  private:
    // (op, table) -> counter, searched by string views: counting an event allocates nothing.
    using EventKey = std::pair<std::string, std::string>;
    using EventKeyView = std::pair<std::string_view, std::string_view>;
    struct EventKeyLess {
        using is_transparent = void;
        static EventKeyView view(const EventKey& k) { return {k.first, k.second}; }
        static EventKeyView view(const EventKeyView& k) { return k; }
        template <typename A, typename B>
        bool operator()(const A& a, const B& b) const {
            return view(a) < view(b);
        }
    };
    mutable std::mutex events_mutex_;
    std::map<EventKey, std::uint64_t, EventKeyLess> events_;
    std::atomic<std::uint64_t> bytes_{0};
    std::atomic<std::uint64_t> kafka_errors_{0};
    std::atomic<std::uint64_t> reconnects_postgres_{0};
    std::atomic<std::uint64_t> reconnects_kafka_{0};
    std::atomic<int> up_{0};
    std::atomic<double> lag_seconds_{0};
    std::atomic<std::uint64_t> lag_bytes_{0};
    std::atomic<std::uint64_t> retained_{0};
    std::atomic<std::uint64_t> inflight_{0};
    std::map<std::string, std::uint64_t, std::less<>> snapshot_rows_;  // under events_mutex_
    std::atomic<std::uint64_t> snapshot_tables_{0};
    mutable std::mutex halted_mutex_;
    std::unique_ptr<Halted> halted_;  // under halted_mutex_
};

}  // namespace pgcs::daemon
