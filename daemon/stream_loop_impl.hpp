// The stream loop's class, shared by its two source files: stream_loop.cpp (connecting,
// supervising, status and progress) and stream_publish.cpp (the change path: decode, build,
// encode, produce, and snapshot rows). Internal to daemon/.
#pragma once

#include "daemon/stream_loop.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/ack/ack_tracker.hpp"
#include "core/changeset/changeset.hpp"
#include "core/encode/changeset_encoder.hpp"
#include "core/pgoutput/decoder.hpp"
#include "core/sink/kafka_sink.hpp"
#include "core/snapshot/snapshot_coordinator.hpp"
#include "core/source/catalog.hpp"
#include "core/source/pg_error.hpp"
#include "core/source/replication_stream.hpp"
#include "core/source/transaction_buffer.hpp"
#include "daemon/backoff.hpp"
#include "daemon/source_setup.hpp"

namespace pgcs::daemon::detail {

using Clock = std::chrono::steady_clock;
using encode::format_lsn;
using snapshot::SnapshotCoordinator;
using std::chrono::milliseconds;

struct StopRequested {};

constexpr std::string_view kHeartbeatPrefix = "pgchangeset.heartbeat";

class StreamLoop {
  public:
    StreamLoop(const config::Config& config, StopFlags flags, StreamObserver& observer)
        : config_(config),
          flags_(flags),
          observer_(observer),
          settings_{config.postgres.conninfo, config.postgres.password, "pgchangeset"},
          encoder_(types_),
          budget_(config.buffer.memory_limit_bytes),
          buffer_(budget_, config.buffer.spill_directory),
          messages_topic_(config.kafka.messages_topic.empty()
                              ? config.kafka.topic_prefix + ".messages"
                              : config.kafka.messages_topic),
          snapshots_(snapshot_settings_from(config), types_,
                     {[this](std::string_view table, std::uint64_t rows) {
                          observer_.snapshot_rows(table, rows);
                      },
                      [this](std::size_t n) { observer_.snapshot_tables_remaining(n); }}) {}

    int run();

  private:
    void connect_catalog();
    void prepare_database();
    // The new slot's exported snapshot: tables without a key, before streaming starts.
    void copy_exported_snapshot();
    void check_slot_on_reconnect();
    void wait_for_kafka();
    void start_replication();
    void loop();
    void shutdown(bool send_final_status);
    void sleep_serving_kafka(milliseconds delay);

    void handle(const source::XLogData& x);
    void handle(const source::Keepalive& k);
    struct CommitInfo {
        pgoutput::Xid xid;
        std::int64_t commit_time;
        source::Lsn end_lsn;
    };
    // A transaction streamed in pieces (protocol v2) and not yet committed or aborted.
    struct StreamedTxn {
        source::TransactionBuffer buffer;
        std::unordered_set<pgoutput::Xid> aborted_subxids;
    };
    void publish_transaction(source::TransactionBuffer& buffer, const CommitInfo& commit,
                             bool streamed, const std::unordered_set<pgoutput::Xid>* aborted);
    void handle_stream_message(char type, const source::XLogData& x);
    void publish_message(const pgoutput::LogicalMessage& m, const CommitInfo* commit,
                         std::int64_t captured_time, std::uint64_t seq,
                         std::optional<ack::TxnTicket> ticket);
    bool heartbeat(std::string_view prefix) const { return prefix == kHeartbeatPrefix; }
    void reset_receive_state();
    void define_relation(const pgoutput::Relation& relation);
    void emit(const changeset::Changeset& change, const changeset::EventMeta& meta,
              ack::TxnTicket ticket);
    // Hands the encoder's current key and value to Kafka, waiting out a full queue.
    // The topic of a relation (also of one only a snapshot has seen so far).
    const std::string& topic_for(const changeset::RelationInfo& relation);
    void produce(const std::string& topic, ack::TxnTicket ticket);
    void produce(const std::string& topic, bool has_key, std::string_view key,
                 std::string_view value, ack::TxnTicket ticket);
    void maybe_send_status(bool force = false, bool reading = true);
    void maybe_heartbeat();
    void report_progress(bool force);
    void emit_chunk(SnapshotCoordinator::PendingChunk& chunk, const CommitInfo& commit,
                    std::uint64_t lsn, std::uint64_t& seq, ack::TxnTicket ticket);
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

    changeset::TypeRegistry types_;
    changeset::RelationCache relations_;
    std::unordered_map<std::uint32_t, std::string> topics_;  // relation OID -> topic
    std::unordered_map<std::uint32_t, std::string> names_;   // relation OID -> schema.table
    changeset::Changeset change_;
    encode::ChangesetEncoder encoder_;
    std::string value_scratch_;  // a snapshot row's value
    std::string meta_head_;      // a snapshot chunk's fields before seq

    bool in_transaction_ = false;
    bool skipping_ = false;  // the open transaction was already handed to Kafka
    pgoutput::Begin begin_;
    source::MemoryBudget budget_;
    source::TransactionBuffer buffer_;
    std::string messages_topic_;
    source::StartOptions options_;
    bool in_stream_ = false;
    pgoutput::Xid stream_xid_ = 0;
    std::unordered_map<pgoutput::Xid, StreamedTxn> streams_;
    // End LSN of the newest transaction handed to Kafka in full: a transaction sent again
    // after a reconnect with an end LSN at or below it is skipped, never published twice.
    source::Lsn last_enqueued_end_ = 0;

    source::Lsn last_received_ = 0;
    source::Lsn server_wal_end_ = 0;
    source::Lsn last_reported_flush_ = 0;
    std::int64_t retained_wal_bytes_ = -1;
    std::uint64_t events_published_ = 0;
    std::uint64_t binary_fallbacks_ = 0;  // binary values converted by the server
    std::uint64_t deliveries_ = 0;
    std::uint64_t deliveries_at_last_report_ = 0;
    Clock::time_point last_status_{};
    Clock::time_point last_server_message_{};
    Clock::time_point last_heartbeat_{};
    Clock::time_point last_progress_report_{};
    Clock::time_point last_slot_query_{};

    SnapshotCoordinator snapshots_;
    std::unordered_set<std::uint32_t> ignored_;  // relation OIDs never published (progress table)
    bool progress_bar_ = false;                  // initial_only on a terminal
    std::optional<source::ExportedSnapshot> exported_;
    bool snapshots_resumed_ = false;
};

}  // namespace pgcs::daemon::detail
