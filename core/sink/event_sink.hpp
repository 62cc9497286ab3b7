// Where the publisher hands its records: the interface KafkaSink implements (a unit test's
// recorder implements it too), and the errors a record can meet on its way.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgcs::sink {

// produce()'s partition: the partitioner chooses (by key; murmur2_random by default).
inline constexpr std::int32_t kAnyPartition = RD_KAFKA_PARTITION_UA;

// A configuration or start-up problem; what() names the property.
class SinkError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// librdkafka refused the producer's configuration: a property, or how properties combine.
// A restart cannot help (the daemon exits with its configuration status).
class SinkConfigError : public SinkError {
  public:
    using SinkError::SinkError;
};

// Which limit an event is over.
enum class SizeLimit {
    Broker,    // the broker refused it (the topic's max.message.bytes): raising it there is enough
    Producer,  // kafka.properties message.max.bytes: librdkafka refuses it before sending
    Queue,     // kafka.properties queue.buffering.max.kbytes: it could never fit in the queue
};

// One record over a size limit: Kafka or librdkafka will refuse it every time it is sent.
class EventTooLarge : public SinkError {
  public:
    EventTooLarge(const std::string& what, SizeLimit limit, std::size_t bytes)
        : SinkError(what), limit_(limit), bytes_(bytes) {}
    SizeLimit limit() const { return limit_; }
    std::size_t bytes() const { return bytes_; }  // key + value

  private:
    SizeLimit limit_;
    std::size_t bytes_;
};

enum class ProduceResult { Queued, QueueFull };

class EventSink {
  public:
    virtual ~EventSink() = default;
    // One record under `ticket` (key and value are copied); has_key false: a null key.
    // `partition`: kAnyPartition, or a partition of the topic. QueueFull: nothing was queued;
    // serve delivery reports and retry. A record over a size limit throws EventTooLarge.
    virtual ProduceResult produce(std::string_view topic, bool has_key, std::string_view key,
                                  std::string_view value, std::uint64_t ticket,
                                  std::int32_t partition = kAnyPartition) = 0;
    // A tombstone: the key with a null value, on the key's partition.
    virtual ProduceResult produce_tombstone(std::string_view topic, std::string_view key,
                                            std::uint64_t ticket) = 0;
    // How many partitions `topic` has, calling `serve` while it is not known yet; throws
    // SinkError, with what to do, when it stays unknown.
    virtual int wait_for_partition_count(std::string_view topic,
                                         const std::function<void()>& serve) = 0;
};

}  // namespace pgcs::sink
