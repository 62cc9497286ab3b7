// The Kafka sink: one idempotent librdkafka producer. Delivery reports are the single source of
// truth for "sent": each is handed to the DeliveryHandler with the ticket given at produce().
// https://github.com/confluentinc/librdkafka/blob/master/INTRODUCTION.md#message-reliability
#pragma once

#include <librdkafka/rdkafka.h>

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

namespace pgcs::sink {

struct SinkSettings {
    std::string brokers;
    // User properties, applied after the daemon's defaults (see kafka_sink.cpp).
    std::vector<std::pair<std::string, std::string>> properties;
};

// A configuration or start-up problem; what() names the property.
class SinkError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct DeliveryReport {
    std::uint64_t ticket;
    rd_kafka_resp_err_t error;  // RD_KAFKA_RESP_ERR_NO_ERROR when acknowledged
    std::string_view topic;
    std::int32_t partition;
    std::int64_t offset;
};

using DeliveryHandler = std::function<void(const DeliveryReport&)>;

// What an operator should do about a delivery error ("" when there is no specific advice).
std::string delivery_error_remedy(rd_kafka_resp_err_t error);

enum class ProduceResult { Queued, QueueFull };

class KafkaSink {
  public:
    KafkaSink(const SinkSettings& settings, DeliveryHandler on_delivery);
    ~KafkaSink();
    KafkaSink(const KafkaSink&) = delete;
    KafkaSink& operator=(const KafkaSink&) = delete;

    // The daemon's defaults, before user properties: idempotence, lz4, murmur2_random, ...
    static std::vector<std::pair<std::string, std::string>> default_properties();

    // Queues one record (key and value are copied). `key` empty with has_key false = null key.
    // QueueFull: nothing was queued; serve delivery reports with poll() and retry. Any other
    // failure throws SinkError.
    ProduceResult produce(std::string_view topic, bool has_key, std::string_view key,
                          std::string_view value, std::uint64_t ticket);

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

    // A fatal producer error (e.g. idempotence broken): the producer cannot continue.
    const std::string& fatal_error() const { return fatal_error_; }

  private:
    rd_kafka_topic_t* topic_handle(std::string_view name);
    static void on_delivery_cb(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
    static void on_error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque);

    struct RkDeleter {
        void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
    };
    struct TopicDeleter {
        void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
    };

    DeliveryHandler on_delivery_;
    std::unique_ptr<rd_kafka_t, RkDeleter> rk_;
    std::unordered_map<std::string, std::unique_ptr<rd_kafka_topic_t, TopicDeleter>> topics_;
    // A pipe librdkafka writes a byte to when its main queue gets an event; closed after the
    // producer is destroyed (see ~KafkaSink).
    base::UniqueFd wake_read_;
    base::UniqueFd wake_write_;
    std::string fatal_error_;
};

}  // namespace pgcs::sink
