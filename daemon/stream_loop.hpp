// The daemon's one loop: replication stream in, committed transactions decoded and published,
// delivery reports folded into the acknowledgement watermark, status updates out; reconnects
// to PostgreSQL with backoff. What it does is reported to a StreamObserver (metrics, systemd).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/publish/event_observer.hpp"
#include "core/sink/halt_info.hpp"

namespace pgcs::daemon {

// Exit codes of `pgchangeset run`.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitConfig = 2;

// A periodic picture of where the stream stands.
struct StreamProgress {
    std::uint64_t flush_lsn = 0;           // acknowledged to PostgreSQL
    std::uint64_t server_wal_end = 0;      // the server's WAL end, as last reported by it
    std::uint64_t in_flight = 0;           // events handed to Kafka, not yet acknowledged
    double lag_seconds = 0;                // now - commit time of the last acknowledged transaction
    std::int64_t retained_wal_bytes = -1;  // WAL the slot keeps (-1 unknown)
    bool advancing = false;                // the loop is making progress (for the systemd watchdog)
};

// The stream is halted on one event Kafka or librdkafka refuses for its size, every time it is
// sent (README, "Halted on an event too large").
using sink::HaltInfo;

// events(): `count` events (of `bytes` together) handed to Kafka (publish::EventObserver).
class StreamObserver : public publish::EventObserver {
  public:
    // A human-readable state line: "connecting", "streaming", "reconnecting in 2 s: ...".
    virtual void state(std::string_view /*line*/) {}
    // Streaming started (true: START_REPLICATION succeeded) or stopped (false).
    virtual void streaming(bool /*on*/) {}
    virtual void progress(const StreamProgress& /*p*/) {}
    virtual void kafka_error() {}
    virtual void reconnect(std::string_view /*target*/) {}
    // SIGHUP was received (called from the loop's thread, once per signal).
    virtual void reload() {}
    // Snapshot rows of `table` handed to Kafka; tables whose snapshot is not finished.
    virtual void snapshot_rows(std::string_view /*table*/, std::uint64_t /*rows*/) {}
    virtual void snapshot_tables_remaining(std::size_t /*tables*/) {}
    // Halted on an event too large (nothing is read from PostgreSQL meanwhile); then, about
    // every second while it waits to retry, halted_waiting(); resumed() once that transaction
    // is acknowledged.
    virtual void halted(const HaltInfo& /*info*/) {}
    virtual void halted_waiting() {}
    virtual void resumed() {}
};

// Set by signal handlers: stop (SIGTERM/SIGINT); reload (SIGHUP), cleared by the loop.
struct StopFlags {
    const std::atomic<bool>& stop;
    std::atomic<bool>& reload;
};

// Streams until `stop` becomes true (exit 0) or a permanent failure (logged; exit 1; exit 2
// when librdkafka refuses the producer's configuration). Transient PostgreSQL failures are retried
// with backoff. An event Kafka refuses for its size halts the stream (disconnected, the slot
// keeping the transaction) and the transaction is tried again every reconnect.halted_retry_ms.
int run_stream(const config::Config& config, StopFlags flags, StreamObserver& observer);

}  // namespace pgcs::daemon
