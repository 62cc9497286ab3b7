// Kafka transactions on the sink's producer (kafka.exactly_once): the records produced between
// begin() and commit() become visible to read_committed consumers together, or not at all.
// librdkafka's error classes decide what happens on a failure: a retriable error is retried
// here, an abortable one aborts the transaction (TransactionAborted: its records are never
// visible, the caller sends them again), a fatal one ends the producer (TransactionFenced when
// a newer producer with the same transactional.id took over).
// https://github.com/confluentinc/librdkafka/blob/master/INTRODUCTION.md#transactional-producer
#pragma once

#include <functional>
#include <string>

#include "core/sink/kafka_sink.hpp"

namespace pgcs::sink {

// The Kafka transaction was aborted (an abortable error: a broker's transaction timeout, a
// record the broker refused, a lost coordinator): none of its records is visible to a
// read_committed consumer. Sending the same events again in a new transaction is safe.
class TransactionAborted : public SinkError {
  public:
    using SinkError::SinkError;
};

// Another producer with the same transactional.id started (a daemon that took the slot over):
// this one is fenced for good and must stop.
class TransactionFenced : public SinkError {
  public:
    using SinkError::SinkError;
};

// What to tell the operator when Kafka fenced this producer (`detail`: Kafka's words).
std::string fenced_explanation(const std::string& detail);

class KafkaTransactions {
  public:
    // `sink` must have been made with SinkSettings::transactional_id set.
    explicit KafkaTransactions(KafkaSink& sink) : sink_(sink) {}

    // Registers the transactional.id with its coordinator, fencing any older producer with
    // the same id and aborting what it left open. Throws SinkError (TransactionFenced) when the
    // cluster refuses, with what to do; waits at most `timeout_ms`.
    void init(int timeout_ms);

    // Opens a transaction if none is open.
    void begin();
    bool open() const { return open_; }

    // Sends what is queued and commits; `serve` runs between retries (delivery reports are
    // served by librdkafka's flush inside). On an abortable error the transaction is aborted
    // and TransactionAborted thrown; fatal errors throw TransactionFenced or SinkError.
    void commit(int timeout_ms, const std::function<void()>& serve = {});

    // Aborts the open transaction (if any); its records are never visible to read_committed.
    void abort(int timeout_ms);

  private:
    KafkaSink& sink_;
    bool open_ = false;
};

}  // namespace pgcs::sink
