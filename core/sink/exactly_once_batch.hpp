// kafka.exactly_once's unit of delivery: one Kafka transaction holding the events of one or
// more whole PostgreSQL transactions, then their progress record (the newest commit's end
// LSN). The PostgreSQL transactions' acknowledgement tickets are sealed only once the Kafka
// transaction has committed, so the slot is never acknowledged past what a read_committed
// consumer can read; an aborted Kafka transaction abandons them (sent again after the
// reconnect). See docs/CORRECTNESS.md, "Exactly once".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/ack/ack_tracker.hpp"
#include "core/sink/kafka_transactions.hpp"
#include "core/sink/progress_topic.hpp"

namespace pgcs::sink {

struct BatchLimits {
    std::chrono::milliseconds age{20};  // kafka.transaction_ms
    std::uint64_t events = 100000;      // kafka.transaction_max_events
    int commit_timeout_ms = 60000;      // how long a commit may take before it counts as failed
};

class ExactlyOnceBatch {
  public:
    using Clock = std::chrono::steady_clock;

    // `sink` must be transactional (SinkSettings::transactional_id).
    ExactlyOnceBatch(KafkaSink& sink, ProgressTopic progress, BatchLimits limits)
        : sink_(sink), transactions_(sink), progress_(std::move(progress)), limits_(limits) {}

    // Once this daemon holds the slot, before it publishes: makes the progress topic if
    // missing, registers the transactional.id (fencing the producer before, aborting what it
    // left open) and reads the last committed progress record back: the end LSN of the newest
    // PostgreSQL transaction Kafka has (nullopt: none). Only the first call does anything.
    std::optional<Lsn> start(int timeout_ms);

    // The end LSN of the newest PostgreSQL transaction in a committed Kafka transaction (the
    // progress record start() read, or the last commit's): after an abort, the stream resumes
    // after it.
    Lsn committed() const { return committed_; }

    // Before producing: opens the Kafka transaction when none is open.
    void before_produce();
    // `count` records produced in the open transaction.
    void produced(std::uint64_t count) { events_ += count; }

    // Every event of the PostgreSQL transaction behind `ticket` (commit end LSN `end_lsn`) is
    // produced: sealed now when no Kafka transaction is open (nothing of it went out), else at
    // the commit.
    void finished(ack::AckTracker& tracker, ack::TxnTicket ticket, Lsn end_lsn);

    // The open Kafka transaction is old or large enough to commit (kafka.transaction_ms,
    // kafka.transaction_max_events).
    bool due(Clock::time_point now) const {
        return transactions_.open() && (now - started_ >= limits_.age || events_ >= limits_.events);
    }
    bool open() const { return transactions_.open(); }

    // Produces the progress record and commits; then seals the tickets. `serve` runs between
    // commit retries. On TransactionAborted the tickets are abandoned and it is rethrown, as
    // are fatal errors.
    void commit(ack::AckTracker& tracker, const std::function<void()>& serve);

    // Aborts the open transaction (a stop or failure while publishing): its tickets abandoned.
    void abort(ack::AckTracker& tracker);

  private:
    void abandon_all(ack::AckTracker& tracker);

    KafkaSink& sink_;
    KafkaTransactions transactions_;
    ProgressTopic progress_;
    BatchLimits limits_;
    bool started_once_ = false;
    Lsn committed_ = 0;
    Clock::time_point started_{};
    std::uint64_t events_ = 0;
    std::vector<ack::TxnTicket> tickets_;  // finished, waiting for the commit
    Lsn last_end_lsn_ = 0;
};

}  // namespace pgcs::sink
