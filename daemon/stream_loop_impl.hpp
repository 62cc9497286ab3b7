// The stream loop's class, shared by its source files: stream_loop.cpp (connecting,
// supervising, reconnecting), stream_kafka.cpp (deliveries, exactly once) and stream_status.cpp
// (what the loop reports: status updates to PostgreSQL, heartbeats, progress). The change path is
// the TransactionAssembler (framing) and the Publisher (encode, produce, acknowledge). Internal to
// daemon/.
#pragma once

#include "daemon/stream_loop.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>

#include "core/ack/ack_tracker.hpp"
#include "core/publish/publisher.hpp"
#include "core/sink/kafka_sink.hpp"
#include "core/sink/kafka_transactions.hpp"
#include "core/snapshot/snapshot_coordinator.hpp"
#include "core/source/binary_fallback.hpp"
#include "core/source/catalog.hpp"
#include "core/source/pg_error.hpp"
#include "core/source/promotion_follower.hpp"
#include "core/source/replication_stream.hpp"
#include "core/source/server_checks.hpp"
#include "core/source/server_identity.hpp"
#include "core/source/slot_checks.hpp"
#include "core/source/source_preparation.hpp"
#include "core/source/status_schedule.hpp"
#include "core/source/stream_failure.hpp"
#include "core/source/transaction_assembler.hpp"
#include "daemon/backoff.hpp"
#include "daemon/source_setup.hpp"

namespace pgcs::daemon::detail {

using publish::Publisher;
using sink::EventRefused;
using snapshot::SnapshotCoordinator;
using source::ConfigFailure;
using source::StreamFailure;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct StopRequested {};

// run()'s answer when halted on an event too large (never the process's exit status).
constexpr int kHalted = -1;
// run()'s answer when the server turned out promoted (a new timeline of the same system): a new
// loop follows it from the slot (never the process's exit status).
constexpr int kPromoted = -2;

// What a loop that saw a promotion hands the next one.
using source::Promoted;

// Serves a halt until the retry (reconnect.halted_retry_ms): false when a stop was requested.
bool wait_while_halted(const config::Config& config, StopFlags flags, StreamObserver& observer,
                       const HaltInfo& halted);

class StreamLoop {
  public:
    StreamLoop(const config::Config& config, StopFlags flags, StreamObserver& observer)
        : config_(config),
          flags_(flags),
          observer_(observer),
          settings_{config.postgres.conninfo, config.postgres.password, "pgchangeset"},
          budget_(config.buffer.memory_limit_bytes),
          status_(milliseconds(config.postgres.status_interval_ms),
                  milliseconds(config.postgres.read_timeout_ms)),
          assembler_(budget_, config.buffer.spill_directory),
          subtransactions_([this] { return catalog_conn_.get(); }),
          snapshots_(snapshot_settings_from(config), types_,
                     {[this](std::string_view table, std::uint64_t rows) {
                          observer_.snapshot_rows(table, rows);
                      },
                      [this](std::size_t n) { observer_.snapshot_tables_remaining(n); }}),
          publisher_(
              {config.kafka.topic_prefix, messages_topic_from(config), config.postgres.messages,
               config.kafka.tombstones, config.postgres.binary, format_settings_from(config)},
              types_, snapshots_, observer_, [this] { wait_for_room(); }) {
        assembler_.set_subtransaction_status(&subtransactions_);
    }

    int run();
    // After kHalted: on what.
    const HaltInfo& halt() const { return *halt_; }
    // This loop tries again the transaction a previous one halted on: observer.resumed() once
    // the watermark reaches `end_lsn`.
    void retry_halted(Lsn end_lsn) { halted_until_ = end_lsn; }
    // After kPromoted: the promotion seen.
    const Promoted& promoted() const { return *promoted_; }
    // This loop follows a promotion: the slot must be the synchronised copy (SourceContext).
    void follow(const Promoted& p) { follower_.follow(p); }

  private:
    int halt(const EventRefused& e);
    void connect_catalog();
    // IDENTIFY_SYSTEM on `replication_conn`: the same system as before (else StreamFailure),
    // on the same timeline (else kPromoted, through run()).
    void check_identity(PGconn* replication_conn);
    void prepare_database();
    // The new slot's exported snapshot: tables without a key, before streaming starts.
    void copy_exported_snapshot();
    void check_slot_on_reconnect();
    void wait_for_kafka();
    void start_replication();
    // kafka.exactly_once, once the slot is this daemon's: Kafka transactions registered, and
    // the transactions Kafka already has (its progress record) skipped.
    void start_exactly_once();
    // After an aborted Kafka transaction: what it held counts as not handed out.
    void rewind_to_committed();
    void loop();
    // `halting`: not a stop (systemd is not told the service is stopping).
    void shutdown(bool send_final_status, bool halting = false);
    void sleep_serving_kafka(milliseconds delay);
    // Kafka's queue is full: serve it and the status updates, without reading the stream.
    void wait_for_room();

    void handle(const source::XLogData& x);
    void handle(const source::Keepalive& k);
    void maybe_send_status(bool force = false, bool reading = true);
    void maybe_heartbeat();
    void report_progress(bool force);
    void draw_snapshot_progress(bool final_line);
    void wait_for_input(int timeout_ms);
    void check_failures() const;
    void on_delivery(const sink::DeliveryReport& r);

    const config::Config& config_;
    StopFlags flags_;
    StreamObserver& observer_;
    source::ConnectionSettings settings_;
    source::PgConnPtr catalog_conn_;
    std::optional<source::Catalog> catalog_;
    std::optional<source::ReplicationStream> stream_;
    std::optional<sink::KafkaSink> sink_;
    std::optional<ack::AckTracker> tracker_;
    std::optional<sink::ExactlyOnceBatch> exactly_once_;  // kafka.exactly_once

    changeset::TypeRegistry types_;
    source::MemoryBudget budget_;
    source::StatusSchedule status_;  // when status updates are due
    source::TransactionAssembler assembler_;
    source::ServerSubtransactionStatus subtransactions_;  // asked by assembler_
    source::StartOptions options_;
    SnapshotCoordinator snapshots_;
    Publisher publisher_;

    Lsn last_received_ = 0;
    Lsn server_wal_end_ = 0;
    Lsn last_reported_flush_ = 0;
    std::int64_t retained_wal_bytes_ = -1;
    std::uint64_t binary_fallbacks_ = 0;  // binary values converted by the server
    std::uint64_t deliveries_ = 0;
    std::uint64_t deliveries_at_last_report_ = 0;
    Clock::time_point last_heartbeat_{};
    Clock::time_point last_progress_report_{};
    Clock::time_point last_slot_query_{};

    bool progress_bar_ = false;  // initial_only on a terminal
    std::optional<source::ExportedSnapshot> exported_;
    bool snapshots_resumed_ = false;
    std::optional<HaltInfo> halt_;        // the first event refused for its size
    std::optional<Lsn> halted_until_;     // see retry_halted()
    source::PromotionFollower follower_;  // the first server, a promotion of it
    std::optional<Promoted> promoted_;    // see promoted()
    bool in_recovery_ = false;            // the server is a hot standby
    bool standby_logged_ = false;
    bool streamed_from_standby_ = false;  // in recovery when the stream last started
};

}  // namespace pgcs::daemon::detail
