// The Kafka sink: one idempotent librdkafka producer. Delivery reports are the single source of
// truth for "sent": each is handed to the DeliveryHandler with the ticket given at produce().
// Partition counts come from the cluster's metadata (for records sent to every partition).
// https://github.com/confluentinc/librdkafka/blob/master/INTRODUCTION.md#message-reliability
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/base/unique_fd.hpp"
#include "core/sink/event_sink.hpp"

namespace pgcs::sink {

// What the cluster said about a topic's partitions.
struct PartitionCount {
    int count = 0;               // > 0 when known
    bool topic_missing = false;  // the cluster says the topic does not exist (not created)
    std::string why;             // when count is 0: what the cluster answered, or did not
};

struct SinkSettings {
    std::string brokers;
    // User properties, applied after the daemon's defaults (see kafka_sink.cpp).
    std::vector<std::pair<std::string, std::string>> properties;
    // Not empty: a transactional producer with this transactional.id (kafka.exactly_once; see
    // kafka_transactions.hpp): records may then be produced only inside a transaction.
    std::string transactional_id;
};

struct DeliveryReport {
    std::uint64_t ticket;
    rd_kafka_resp_err_t error;  // RD_KAFKA_RESP_ERR_NO_ERROR when acknowledged
    std::string_view topic;
    std::int32_t partition;
    std::int64_t offset;
    std::string_view key;   // empty for a null key
    std::size_t bytes = 0;  // key + value
};

using DeliveryHandler = std::function<void(const DeliveryReport&)>;

// A newer transactional producer with the same transactional.id fenced this one
// (kafka.exactly_once: another daemon took the slot over).
bool is_fencing_error(rd_kafka_resp_err_t error);

// What an operator should do about a delivery error ("" when there is no specific advice).
std::string delivery_error_remedy(rd_kafka_resp_err_t error);

class KafkaSink : public EventSink {
  public:
    KafkaSink(const SinkSettings& settings, DeliveryHandler on_delivery);
    ~KafkaSink();
    KafkaSink(const KafkaSink&) = delete;
    KafkaSink& operator=(const KafkaSink&) = delete;

    // The daemon's defaults, before user properties: idempotence, lz4, murmur2_random, ...
    static std::vector<std::pair<std::string, std::string>> default_properties();

    // Throws SinkConfigError when librdkafka would refuse this producer's configuration (the
    // same defaults and properties as the constructor); connects to nothing.
    static void check_configuration(const SinkSettings& settings);

    // Queues one record (key and value are copied). has_key false:
    // a null key. `partition`: kAnyPartition, or a partition of the topic. QueueFull: nothing
    // was queued; serve delivery reports with poll() and retry. A record over the producer's
    // message.max.bytes or larger than its whole queue throws EventTooLarge; any other failure
    // throws SinkError.
    ProduceResult produce(std::string_view topic, bool has_key, std::string_view key,
                          std::string_view value, std::uint64_t ticket,
                          std::int32_t partition = kAnyPartition) override {
        return produce_record(topic, partition, has_key, key, true, value, ticket);
    }
    // A tombstone: the key with a null value, on the key's partition.
    ProduceResult produce_tombstone(std::string_view topic, std::string_view key,
                                    std::uint64_t ticket) override {
        return produce_record(topic, kAnyPartition, true, key, false, {}, ticket);
    }

    // How many partitions `topic` has: remembered for kPartitionCountAge, then asked again of
    // the cluster (a metadata request, which has brokers with auto.create.topics.enable create
    // a missing topic). Waits at most `timeout_ms` for the answer; count 0 when not known (yet).
    PartitionCount partition_count(std::string_view topic, int timeout_ms);
    static constexpr std::chrono::seconds kPartitionCountAge{10};
    // How long to keep asking for a topic's partitions before giving up: as long as librdkafka
    // waits for a missing topic to appear (topic.metadata.propagation.max.ms) when the cluster
    // says it does not exist, else as long as it tries to deliver a record (message.timeout.ms).
    int partition_wait_ms(bool topic_missing) const {
        return topic_missing ? propagation_ms_ : message_timeout_ms_;
    }
    // partition_count(), asked again until Kafka knows it (for a TRUNCATE, which goes to every
    // partition), calling `serve` between the attempts (the caller's loop: delivery reports,
    // status updates) and warning every 5 s; throws SinkError, with what to do, once
    // partition_wait_ms() has passed.
    int wait_for_partition_count(std::string_view topic,
                                 const std::function<void()>& serve) override;

    // Asks the cluster for its metadata: true when a broker answered within `timeout_ms`;
    // otherwise `why` says what failed.
    bool reachable(int timeout_ms, std::string& why);

    // Serves delivery reports (and errors) for up to `timeout_ms`.
    void poll(int timeout_ms);

    // Waits up to `timeout_ms` for every queued record's delivery report; returns how many are
    // still outstanding.
    int flush(int timeout_ms);

    // Records not yet acknowledged or failed (librdkafka's queue length).
    int outstanding() const;

    // A file descriptor that becomes readable when delivery reports are waiting (for poll(2)).
    int wakeup_fd() const { return wake_read_.get(); }
    void drain_wakeup_fd();

    // The largest record (key + value) this producer takes: message.max.bytes, and what fits in
    // its queue (queue.buffering.max.kbytes).
    std::size_t max_message_bytes() const { return max_message_bytes_; }
    std::size_t max_queue_bytes() const { return max_queue_bytes_; }

    // The librdkafka producer, for KafkaTransactions.
    rd_kafka_t* handle() { return rk_.get(); }

    // A fatal producer error (e.g. idempotence broken): the producer cannot continue.
    const std::string& fatal_error() const { return fatal_error_; }
    // The fatal error is a newer transactional producer with the same transactional.id
    // (kafka.exactly_once: another daemon took the slot over).
    bool fenced() const { return fenced_; }
    // The brokers refuse this client's credentials or certificates, or theirs does not verify
    // (kafka_refusal.hpp): librdkafka's reason and what to do; empty until then.
    const std::string& refusal() const { return refusal_; }

  private:
    ProduceResult produce_record(std::string_view topic, std::int32_t partition, bool has_key,
                                 std::string_view key, bool has_value, std::string_view value,
                                 std::uint64_t ticket);
    rd_kafka_topic_t* topic_handle(std::string_view name);
    int conf_ms(const char* name, int fallback) const { return conf_int(name, fallback); }
    int conf_int(const char* name, int fallback) const;
    void forget_partitions(std::string_view topic);
    static void on_delivery_cb(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
    static void on_error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque);

    struct RkDeleter {
        void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
    };
    struct TopicDeleter {
        void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
    };

    // Looked up by string_view without making a std::string on every produce.
    struct NameHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    template <typename T>
    using ByName = std::unordered_map<std::string, T, NameHash, std::equal_to<>>;
    struct KnownPartitions {
        int count = 0;
        std::chrono::steady_clock::time_point at;
    };

    DeliveryHandler on_delivery_;
    std::unique_ptr<rd_kafka_t, RkDeleter> rk_;
    ByName<std::unique_ptr<rd_kafka_topic_t, TopicDeleter>> topics_;
    ByName<KnownPartitions> partitions_;
    int message_timeout_ms_ = 300000;
    int propagation_ms_ = 30000;
    std::size_t max_message_bytes_ = 1000000;
    std::size_t max_queue_bytes_ = std::size_t{65536} * 1024;
    // A pipe librdkafka writes a byte to when its main queue gets an event; closed after the
    // producer is destroyed (see ~KafkaSink).
    base::UniqueFd wake_read_;
    base::UniqueFd wake_write_;
    std::string fatal_error_;
    bool fenced_ = false;
    std::string refusal_;
};

}  // namespace pgcs::sink
