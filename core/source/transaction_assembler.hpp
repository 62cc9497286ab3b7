// Replication messages -> committed transactions. Frames the stream (Begin .. Commit, and the
// protocol v2 Stream Start / Stop / Commit / Abort of transactions streamed while in progress)
// into whole transactions, each buffered until its commit, and applies the reconnect rule: a
// transaction the server sends again that was already handed out in full is skipped as a whole,
// by its commit's end LSN, never by a change's LSN (docs/CORRECTNESS.md, "Acknowledging").
// Pure: no socket, no clock, no Kafka; it decodes only the framing messages and hands what it
// assembled to a TransactionHandler.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/pgoutput/decoder.hpp"
#include "core/pgoutput/lsn.hpp"
#include "core/source/replication_stream.hpp"
#include "core/source/subtransaction_status.hpp"
#include "core/source/transaction_buffer.hpp"

namespace pgcs::source {

// One committed transaction, as handed to TransactionHandler::on_transaction (valid during that
// call only).
class CommittedTransaction {
  public:
    pgoutput::Xid xid = 0;
    pgoutput::PgTimestamp commit_time = 0;
    Lsn end_lsn = 0;  // the commit's end: what the slot may be acknowledged up to
    bool streamed = false;

    // What its messages decode with (inside a stream, data messages carry an xid).
    pgoutput::DecodeOptions decode_options() const { return {proto_version_, streamed}; }

    // Its messages in WAL order, without the changes of aborted subtransactions; their Relation
    // and Type messages are kept, as the server does not send them again in this transaction.
    void replay(const std::function<void(const TransactionBuffer::Entry&)>& f) const;

    // How much was buffered for it (for the log).
    std::size_t messages() const { return buffer_->size(); }
    std::uint64_t bytes() const { return buffer_->bytes(); }
    bool spilled() const { return buffer_->spilled(); }

  private:
    friend class TransactionAssembler;
    CommittedTransaction(TransactionBuffer& buffer,
                         const std::unordered_set<pgoutput::Xid>* aborted)
        : buffer_(&buffer), aborted_(aborted) {}
    TransactionBuffer* buffer_;
    const std::unordered_set<pgoutput::Xid>* aborted_;  // subtransactions; null if not streamed
    int proto_version_ = 1;
};

class TransactionHandler {
  public:
    virtual ~TransactionHandler() = default;
    // A committed transaction to hand out. Once this returns it counts as handed out: sent again
    // after a reconnect, it is skipped. When this throws, it does not count.
    virtual void on_transaction(const CommittedTransaction& txn) = 0;
    // A transaction sent again after a reconnect, already handed out before: not handed out again.
    virtual void on_skipped(pgoutput::Xid /*xid*/, Lsn /*end_lsn*/) {}
    // A streamed transaction rolled back: its `messages` are discarded, nothing is handed out.
    virtual void on_aborted(pgoutput::Xid /*xid*/, std::size_t /*messages*/) {}
    // A committed streamed transaction had changes of subtransactions the server says rolled
    // back (`aborted`, dropped) or no longer knows (`unknown`, kept), without a Stream Abort for
    // them (docs/CORRECTNESS.md, "Subtransactions of streamed transactions").
    virtual void on_unreported_subtransactions(pgoutput::Xid /*xid*/,
                                               const SubtransactionVerdict& /*verdict*/) {}
    // A Relation message outside any transaction (inside one, it is among its messages).
    virtual void on_relation(const pgoutput::Relation& relation) = 0;
    // A non-transactional logical decoding message (pg_logical_emit_message(false, ...)) not
    // handed out before; it belongs to no transaction, whatever happens around it.
    virtual void on_message(const pgoutput::LogicalMessage& message,
                            std::int64_t received_time) = 0;
};

class TransactionAssembler {
  public:
    TransactionAssembler(MemoryBudget& budget, std::string spill_directory)
        : budget_(budget),
          spill_directory_(std::move(spill_directory)),
          buffer_(budget_, spill_directory_) {}

    // Every transaction whose commit ends at or before `end_lsn` counts as handed out (at start:
    // the slot's confirmed_flush_lsn).
    void set_handed_out(Lsn end_lsn) { handed_out_ = end_lsn; }

    // Asked at each Stream Commit which subtransactions without a Stream Abort rolled back (none
    // set: the stream's Stream Abort messages are believed alone).
    void set_subtransaction_status(SubtransactionStatus* status) { status_ = status; }
    Lsn handed_out() const { return handed_out_; }

    // A new replication connection: whatever was partly received is forgotten; the server sends
    // every unacknowledged transaction again, streamed ones from their first segment.
    void restart(int proto_version);

    // One XLogData payload. Throws StreamFailure when the stream breaks the protocol's framing,
    // pgoutput::DecodeError on malformed bytes, SpillError when a buffer cannot spill; and
    // whatever the handler throws.
    void feed(const XLogData& x, TransactionHandler& handler);

    // Inside Begin .. Commit, or a streamed transaction has neither committed nor aborted: no
    // position may be acknowledged from here.
    bool transaction_open() const { return in_transaction_ || !streams_.empty(); }

  private:
    // A transaction streamed in pieces (protocol v2) and not yet committed or aborted.
    struct StreamedTxn {
        TransactionBuffer buffer;
        std::unordered_set<pgoutput::Xid> aborted_subxids;
        std::unordered_set<pgoutput::Xid> xids;  // of its messages: its own and subtransactions'
        pgoutput::Xid last_xid = 0;              // of its newest message
    };
    // Subtransactions of `txn` (top-level `xid`) with changes and no Stream Abort that the
    // server says rolled back join its aborted ones.
    void check_subtransactions(pgoutput::Xid xid, StreamedTxn& txn, TransactionHandler& handler);
    void feed_stream_control(pgoutput::MessageType type, const XLogData& x,
                             TransactionHandler& handler);
    // A skipped transaction's Relation messages still describe the relations for the
    // transactions after it.
    void keep_relations(TransactionBuffer& buffer, TransactionHandler& handler);
    void feed_outside_transaction(const XLogData& x, TransactionHandler& handler);
    void hand_out(TransactionBuffer& buffer, const std::unordered_set<pgoutput::Xid>* aborted,
                  pgoutput::Xid xid, pgoutput::PgTimestamp commit_time, Lsn end_lsn, bool streamed,
                  TransactionHandler& handler);
    pgoutput::DecodeOptions options() const { return {proto_version_, false}; }

    MemoryBudget& budget_;
    std::string spill_directory_;
    int proto_version_ = 1;
    Lsn handed_out_ = 0;  // end LSN of the newest transaction handed out in full
    SubtransactionStatus* status_ = nullptr;

    bool in_transaction_ = false;
    bool skipping_ = false;  // the open transaction was handed out before a reconnect
    pgoutput::Begin begin_;
    TransactionBuffer buffer_;

    bool in_stream_ = false;
    pgoutput::Xid stream_xid_ = 0;
    std::unordered_map<pgoutput::Xid, StreamedTxn> streams_;
};

}  // namespace pgcs::source
