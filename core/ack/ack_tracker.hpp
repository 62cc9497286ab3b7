// The acknowledgement watermark: which WAL position may be reported to PostgreSQL as flushed.
// Only the end LSN of a commit whose events, and those of every earlier transaction, Kafka
// has acknowledged (a contiguous watermark, not "the highest LSN acked": librdkafka can
// deliver 1, 4, 5 and fail 2, 3). See docs/CORRECTNESS.md, "Contiguous watermark".
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "core/pgoutput/lsn.hpp"

namespace pgcs::ack {

// Identifies one transaction handed to Kafka; carried in each message's opaque pointer.
using TxnTicket = std::uint64_t;

class AckTracker {
  public:
    // `confirmed_flush` is the slot's confirmed_flush_lsn at start: never report less.
    explicit AckTracker(Lsn confirmed_flush = 0) : flush_lsn_(confirmed_flush) {}

    // A committed transaction about to be produced, in commit order. Its events are counted
    // with add_events() as they are handed to Kafka, then seal() says there are no more; an
    // unsealed transaction is never acknowledged. A sealed transaction with no events completes
    // as soon as everything before it has.
    TxnTicket open_transaction(Lsn commit_end_lsn, std::int64_t commit_time = 0);
    void add_events(TxnTicket ticket, std::uint64_t events);
    void seal(TxnTicket ticket);

    // Publishing the transaction was interrupted (connection lost, stop requested): the events
    // already produced still get their delivery reports, but the transaction never moves the
    // watermark. It is sent again in full after a reconnect or restart.
    void abandon(TxnTicket ticket);

    // open_transaction + add_events + seal.
    TxnTicket add_transaction(Lsn commit_end_lsn, std::uint64_t events);

    // The commit end LSN a pending transaction was opened with.
    Lsn end_lsn(TxnTicket ticket) { return entry(ticket).end_lsn; }

    // Kafka acknowledged one message of the transaction.
    void on_delivered(TxnTicket ticket);

    // Kafka gave up on one message of the transaction: the watermark never passes it.
    void on_failed(TxnTicket ticket, const std::string& reason);

    // A transaction is being received (Begin seen, Commit not yet): blocks idle acknowledgement.
    void set_transaction_open(bool open) { transaction_open_ = open; }

    // The server's keepalive reported it has sent everything up to `wal_end`. With nothing in
    // flight and no transaction open, that position may be acknowledged: otherwise a quiet
    // slot pins WAL forever.
    void on_keepalive(Lsn wal_end);

    // The LSN to send as `flush` in the standby status update. Only ever grows.
    Lsn flush_lsn() const { return flush_lsn_; }

    // Commit time of the newest acknowledged transaction (0 before the first).
    std::int64_t acknowledged_commit_time() const { return acknowledged_commit_time_; }

    bool idle() const { return pending_.empty() && !transaction_open_; }
    std::uint64_t in_flight_messages() const { return in_flight_messages_; }
    std::size_t pending_transactions() const { return pending_.size(); }

    // The first delivery failure, if any: the stream must stop (and replay from the slot).
    const std::optional<std::string>& failure() const { return failure_; }

  private:
    struct Pending {
        Lsn end_lsn;
        std::uint64_t remaining;
        bool sealed;
        bool failed;
        bool abandoned;
        std::int64_t commit_time;
    };
    Pending& entry(TxnTicket ticket);
    Pending& delivered_entry(TxnTicket ticket);
    void advance();

    std::deque<Pending> pending_;
    TxnTicket first_ticket_ = 0;  // ticket of pending_.front()
    Lsn flush_lsn_;
    std::int64_t acknowledged_commit_time_ = 0;
    std::uint64_t in_flight_messages_ = 0;
    bool transaction_open_ = false;
    std::optional<std::string> failure_;
};

}  // namespace pgcs::ack
