// The change path's last leg, for each committed transaction the assembler hands out: its
// pgoutput messages decoded, built into changesets, encoded and handed to Kafka under one
// acknowledgement ticket; snapshot chunks go out at their watermark, inside the watermark's
// transaction. The stage that joins the others (decoder, builder, encoder, sink, ack tracker,
// snapshot coordinator); the daemon's stream loop drives it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/ack/ack_tracker.hpp"
#include "core/changeset/changeset.hpp"
#include "core/encode/encoder_factory.hpp"
#include "core/publish/event_observer.hpp"
#include "core/sink/event_sink.hpp"
#include "core/sink/exactly_once_batch.hpp"
#include "core/sink/halt_info.hpp"
#include "core/snapshot/chunk_row_writer.hpp"
#include "core/snapshot/snapshot_coordinator.hpp"
#include "core/source/catalog.hpp"
#include "core/source/heartbeat.hpp"
#include "core/source/relation_directory.hpp"
#include "core/source/transaction_assembler.hpp"

namespace pgcs::publish {

using snapshot::SnapshotCoordinator;

using sink::EventRefused;
using sink::HaltInfo;

using source::kHeartbeatPrefix;  // the daemon's own heartbeat messages: never published

class Publisher : public source::TransactionHandler {
  public:
    struct Settings {
        std::string topic_prefix;
        std::string messages_topic;
        bool publish_messages = false;  // postgres.messages
        bool tombstones = true;         // kafka.tombstones
        bool binary = false;            // postgres.binary: values in their send form
        encode::FormatSettings format;  // kafka.format and its options
    };

    // `wait_for_room` is called while Kafka's queue is full (back-pressure), and while a
    // topic's partitions are not known yet (a TRUNCATE): it serves the producer and the
    // replication connection, and throws to give up.
    Publisher(Settings settings, changeset::TypeRegistry& types, SnapshotCoordinator& snapshots,
              EventObserver& observer, std::function<void()> wait_for_room);

    // Once the slot's position is known: where events go and whose tickets they take.
    // `handed_out`: the slot's confirmed_flush_lsn.
    void bind(sink::EventSink& sink, ack::AckTracker& tracker, Lsn handed_out);
    // kafka.exactly_once: records go out in `batch`'s Kafka transactions, and a transaction's
    // ticket is sealed at its Kafka commit (nullptr: sealed once produced, at least once).
    void set_batch(sink::ExactlyOnceBatch* batch) { batch_ = batch; }
    // After each (re)connect: relations are described with this catalog connection.
    void set_catalog(const source::Catalog& catalog);

    void on_transaction(const source::CommittedTransaction& txn) override;
    void on_skipped(pgoutput::Xid xid, Lsn end_lsn) override;
    void on_aborted(pgoutput::Xid xid, std::size_t messages) override;
    void on_unreported_subtransactions(pgoutput::Xid xid,
                                       const source::SubtransactionVerdict& verdict) override;
    void on_relation(const pgoutput::Relation& relation) override;
    void on_message(const pgoutput::LogicalMessage& message, std::int64_t received_time) override;

    // The rows of the keyless tables of a new slot, read under its exported snapshot: one
    // transaction at the snapshot's consistent point, before streaming starts.
    void publish_exported(const source::ExportedSnapshot& exported);

    encode::EventEncoder& encoder() { return *encoder_; }
    // The table (schema.table) whose events go to `topic`; "(messages)" for the messages topic.
    std::string table_of_topic(std::string_view topic) const;
    std::uint64_t events_published() const { return events_published_; }

  private:
    struct CommitInfo {
        pgoutput::Xid xid;
        std::int64_t commit_time;
        Lsn end_lsn;
    };
    using PendingChunk = SnapshotCoordinator::PendingChunk;

    void publish(const source::CommittedTransaction& txn, ack::TxnTicket ticket,
                 std::vector<std::pair<PendingChunk*, std::uint64_t>>& chunks);
    void publish_message(const pgoutput::LogicalMessage& m, const CommitInfo* commit,
                         std::int64_t captured_time, std::uint64_t seq,
                         std::optional<ack::TxnTicket> ticket);
    bool publishes(const pgoutput::LogicalMessage& m) const {
        return settings_.publish_messages && m.prefix != kHeartbeatPrefix;
    }
    // One event; a deleted one is followed by its tombstone (kafka.tombstones).
    void emit(const changeset::Changeset& change, const changeset::EventMeta& meta,
              ack::TxnTicket ticket, std::int32_t partition = sink::kAnyPartition);
    // An UPDATE: one modified event, or the two events of a key change. `meta` is the
    // message's; each event takes the next `seq`.
    void emit_update(const changeset::RelationInfo& relation, const pgoutput::Update& update,
                     changeset::EventMeta meta, std::uint64_t& seq, ack::TxnTicket ticket);
    // A TRUNCATE of one table: one truncated event on every partition of its topic, each with
    // the next `seq`.
    void emit_truncate(const changeset::RelationInfo& relation, changeset::EventMeta meta,
                       std::uint64_t& seq, ack::TxnTicket ticket);
    // The transaction's events are all produced: its ticket sealed now or at the Kafka commit.
    void finish(ack::TxnTicket ticket, Lsn end_lsn);
    // Publishing it failed: its ticket abandoned, and the open Kafka transaction aborted.
    void abandon(ack::TxnTicket ticket);
    void emit_chunk(PendingChunk& chunk, const CommitInfo& commit, Lsn lsn, std::uint64_t& seq,
                    ack::TxnTicket ticket);
    // Hands the encoder's current key and value to Kafka, waiting out a full queue.
    void produce(const std::string& topic, ack::TxnTicket ticket,
                 std::int32_t partition = sink::kAnyPartition);
    void produce(const std::string& topic, bool has_key, std::string_view key,
                 std::string_view value, ack::TxnTicket ticket,
                 std::int32_t partition = sink::kAnyPartition);

    Settings settings_;
    changeset::TypeRegistry& types_;
    SnapshotCoordinator& snapshots_;
    EventObserver& observer_;
    std::function<void()> wait_for_room_;
    const source::Catalog* catalog_ = nullptr;
    sink::EventSink* sink_ = nullptr;
    sink::ExactlyOnceBatch* batch_ = nullptr;
    ack::AckTracker* tracker_ = nullptr;
    Lsn handed_out_ = 0;  // end LSN of the newest transaction published in full

    source::RelationDirectory relations_;
    std::unordered_set<std::uint32_t> ignored_;  // relation OIDs never published (progress table)
    changeset::Changeset change_;
    changeset::Changeset deleted_;                   // a key change's first half
    changeset::Changeset added_;                     // and its second
    source::PgResultPtr missing_row_;                // columns read for added_ (unchanged TOAST)
    std::unique_ptr<encode::EventEncoder> encoder_;  // kafka.format's
    snapshot::ChunkRowWriter rows_;                  // a snapshot chunk's values
    std::uint64_t events_published_ = 0;
};

}  // namespace pgcs::publish
