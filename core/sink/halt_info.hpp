// An event Kafka or librdkafka refuses for its size halts the stream every time it is sent
// (README, "Halted on an event too large"): which event, which limit, and what the operator does.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/sink/kafka_sink.hpp"

namespace pgcs::sink {

struct HaltInfo {
    std::string reason;  // broker_message_size, producer_message_max_bytes, producer_queue_size
    std::string table;   // schema.table ("(messages)" for a logical decoding message)
    std::string topic;
    std::string key;              // the Kafka key (its first 256 bytes), "" for a null key
    std::uint64_t bytes = 0;      // key + value
    std::uint64_t end_lsn = 0;    // the end LSN of its transaction's commit
    bool restart_needed = false;  // the limit is the producer's own: kafka.properties and restart
    std::string what;             // what Kafka or librdkafka said
};

// The HaltInfo of an event over `limit` ("" table and end_lsn 0: the caller fills them in).
HaltInfo halt_info(SizeLimit limit, std::string_view topic, bool has_key, std::string_view key,
                   std::size_t bytes, std::string what);

// The log's line on the halt (`retry_ms`: reconnect.halted_retry_ms) and what to do about it.
std::string halt_summary(const HaltInfo& h, int retry_ms);
std::string halt_advice(const HaltInfo& h);

// A failed delivery report: what the transaction fails with (the error, its topic, what to do)
// and, when Kafka refused the event for its size, the halt ("" table and end_lsn 0: the caller
// fills them in).
struct DeliveryFailure {
    std::string what;
    std::optional<HaltInfo> halt;
};
DeliveryFailure delivery_failure(const DeliveryReport& r);

// Thrown through the publisher to the stream loop, which halts.
class EventRefused : public std::runtime_error {
  public:
    explicit EventRefused(HaltInfo info) : std::runtime_error(info.what), info_(std::move(info)) {}
    const HaltInfo& info() const { return info_; }

  private:
    HaltInfo info_;
};

}  // namespace pgcs::sink
