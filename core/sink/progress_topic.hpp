// The progress topic of kafka.exactly_once: in each Kafka transaction, after its events, one
// record (key: the slot; value: {"slot":...,"system":...,"commit_lsn":...}) saying which
// PostgreSQL commit
// the transaction ends with. It commits with the events or not at all, so the last committed
// record is exactly what Kafka has: at start the daemon reads it (read_committed) and skips
// every transaction at or before it, even when the slot is behind Kafka.
// A compacted topic of one partition; the records go to partition 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/pgoutput/lsn.hpp"
#include "core/sink/kafka_sink.hpp"

namespace pgcs::sink {

// The progress record's value, and back (nullopt: not a progress record of this format).
// `system`: the PostgreSQL cluster's system identifier (IDENTIFY_SYSTEM), the same on its
// physical standbys: a record of another cluster with the same slot name never counts.
struct Progress {
    std::string system;
    Lsn commit_lsn = 0;
};
std::string progress_value(std::string_view slot, std::string_view system, Lsn commit_lsn);
std::optional<Progress> parse_progress(std::string_view value);

class ProgressTopic {
  public:
    // `settings`: the producer's (brokers, security properties), for the reader's consumer.
    ProgressTopic(SinkSettings settings, std::string topic, std::string slot, std::string system)
        : settings_(std::move(settings)),
          topic_(std::move(topic)),
          slot_(std::move(slot)),
          system_(std::move(system)) {}

    // Creates the topic (compacted, one partition) when the cluster does not have it. Throws
    // SinkError when the cluster refuses, with what to do.
    void ensure_exists(KafkaSink& sink, int timeout_ms) const;

    // The commit LSN of the last committed progress record of this slot and system; nullopt
    // when there is none (records of another system are skipped, with a warning). Reads with
    // isolation.level=read_committed, from the end of partition 0 backwards. Call after
    // KafkaTransactions::init(): a transaction the previous producer left open is settled by then.
    // Throws SinkError when the topic cannot be read within `timeout_ms`.
    std::optional<Lsn> read_last(int timeout_ms) const;

    // Queues this slot's progress record (inside the open transaction) with `ticket`.
    ProduceResult produce(KafkaSink& sink, Lsn commit_lsn, std::uint64_t ticket) const;

  private:
    bool listed(KafkaSink& sink, int timeout_ms) const;

    SinkSettings settings_;
    std::string topic_;
    std::string slot_;
    std::string system_;
};

}  // namespace pgcs::sink
