// What an event too large for Kafka halts on, and what the log tells the operator.
#include "core/sink/halt_info.hpp"

#include "core/pgoutput/lsn.hpp"

namespace pgcs::sink {

HaltInfo halt_info(SizeLimit limit, std::string_view topic, bool has_key, std::string_view key,
                   std::size_t bytes, std::string what) {
    HaltInfo h;
    switch (limit) {
        case SizeLimit::Broker:
            h.reason = "broker_message_size";
            break;
        case SizeLimit::Producer:
            h.reason = "producer_message_max_bytes";
            h.restart_needed = true;
            break;
        case SizeLimit::Queue:
            h.reason = "producer_queue_size";
            h.restart_needed = true;
            break;
    }
    h.topic = std::string(topic);
    if (has_key) {
        h.key = std::string(key.substr(0, 256));
    }
    h.bytes = bytes;
    h.what = std::move(what);
    return h;
}

std::string halt_summary(const HaltInfo& h, int retry_ms) {
    return "halted: the event of " + std::to_string(h.bytes) + " bytes on " + h.table + " (key " +
           (h.key.empty() ? "null" : h.key) + ", transaction ending at " + format_lsn(h.end_lsn) +
           ") is too large for Kafka; nothing from that transaction on is acknowledged, the slot "
           "keeps it and it is tried again every " +
           std::to_string(retry_ms) + " ms (reconnect.halted_retry_ms)";
}

std::string halt_advice(const HaltInfo& h) {
    const std::string bytes = std::to_string(h.bytes);
    const std::string topic_config =
        "kafka-configs --bootstrap-server ... --alter --entity-type topics --entity-name " +
        h.topic + " --add-config max.message.bytes=N";
    if (h.reason == "producer_queue_size") {
        return "what to do: raise kafka.properties queue.buffering.max.kbytes above " +
               std::to_string(h.bytes / 1024 + 1) +
               " KiB, then restart the daemon (the producer's own limit: a retry without a "
               "restart cannot pass); or leave the large column out of the publication";
    }
    if (h.restart_needed) {
        return "what to do: raise kafka.properties message.max.bytes above " + bytes +
               " bytes, then restart the daemon (the producer's own limit: a retry without a "
               "restart cannot pass), and raise the topic's max.message.bytes too if it is lower "
               "(" +
               topic_config +
               "); or leave the large column out of the publication (ALTER PUBLICATION ... SET "
               "TABLE ... (columns))";
    }
    return "what to do: raise the topic's max.message.bytes above " + bytes + " bytes (" +
           topic_config +
           ", or the broker's message.max.bytes): the next retry then passes without a restart; "
           "kafka.properties message.max.bytes must be above it too (the producer's own limit: "
           "changing it needs a restart); or leave the large column out of the publication "
           "(ALTER PUBLICATION ... SET TABLE ... (columns))";
}

DeliveryFailure delivery_failure(const DeliveryReport& r) {
    DeliveryFailure f;
    f.what = std::string(rd_kafka_err2name(r.error)) + " (" + rd_kafka_err2str(r.error) +
             ") on topic " + std::string(r.topic);
    if (const std::string remedy = delivery_error_remedy(r.error); !remedy.empty()) {
        f.what += "; " + remedy;
    }
    if (r.error == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        f.halt = halt_info(SizeLimit::Broker, r.topic, !r.key.empty(), r.key, r.bytes,
                           "Kafka refused an event of " + std::to_string(r.bytes) +
                               " bytes for topic '" + std::string(r.topic) + "': " + f.what);
    }
    return f;
}

}  // namespace pgcs::sink
