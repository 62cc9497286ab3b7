// librdkafka producer set up for at-least-once delivery without reordering.
#include "core/sink/kafka_sink.hpp"

#include "core/sink/kafka_refusal.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <charconv>

namespace pgcs::sink {

std::vector<std::pair<std::string, std::string>> KafkaSink::default_properties() {
    return {
        // No duplicates or reordering within one producer; forces acks=all
        // (docs/CORRECTNESS.md, "Idempotent producer").
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"compression.type", "lz4"},
        // Batch for throughput while keeping commit -> ack latency low.
        {"linger.ms", "5"},
        {"batch.num.messages", "10000"},
        // Same key -> same partition as Java clients.
        {"partitioner", "murmur2_random"},
        // Bounded memory: when the queue is full the daemon stops reading the replication
        // stream (back-pressure) instead of buffering more.
        {"queue.buffering.max.messages", "100000"},
        {"queue.buffering.max.kbytes", "65536"},
    };
}

namespace {

void set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
    std::array<char, 512> err{};
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err.data(), err.size()) !=
        RD_KAFKA_CONF_OK) {
        throw SinkConfigError("kafka property '" + key + "': " + err.data());
    }
}

// The producer's configuration: brokers, the daemon's defaults, then the user's properties.
rd_kafka_conf_t* build_conf(const SinkSettings& settings, bool with_brokers) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    try {
        if (with_brokers) {
            set_property(conf, "bootstrap.servers", settings.brokers);
        }
        for (const auto& [k, v] : KafkaSink::default_properties()) {
            set_property(conf, k, v);
        }
        if (!settings.transactional_id.empty()) {
            // Room for a Kafka transaction holding a PostgreSQL transaction of millions of
            // rows (librdkafka's default is 60 s); brokers allow up to 15 minutes by default.
            set_property(conf, "transaction.timeout.ms", "600000");
        }
        for (const auto& [k, v] : settings.properties) {
            set_property(conf, k, v);
        }
        if (!settings.transactional_id.empty()) {
            set_property(conf, "transactional.id", settings.transactional_id);
        }
    } catch (...) {
        rd_kafka_conf_destroy(conf);
        throw;
    }
    return conf;
}

extern "C" void ignore_log(const rd_kafka_t* /*rk*/, int /*level*/, const char* /*fac*/,
                           const char* /*buf*/) {}

}  // namespace

void KafkaSink::check_configuration(const SinkSettings& settings) {
    // Without bootstrap.servers the client has no broker to connect to: librdkafka checks how
    // the properties combine (rd_kafka_new) and nothing leaves the process.
    rd_kafka_conf_t* conf = build_conf(settings, false);
    rd_kafka_conf_set_log_cb(conf, &ignore_log);
    std::array<char, 512> err{};
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err.data(), err.size());
    if (rk == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw SinkConfigError(std::string("kafka.properties: librdkafka refuses them together: ") +
                              err.data() + "; fix kafka.properties");
    }
    rd_kafka_destroy(rk);
}

KafkaSink::KafkaSink(const SinkSettings& settings, DeliveryHandler on_delivery)
    : on_delivery_(std::move(on_delivery)) {
    rd_kafka_conf_t* conf = build_conf(settings, true);
    rd_kafka_conf_set_dr_msg_cb(conf, &KafkaSink::on_delivery_cb);
    rd_kafka_conf_set_error_cb(conf, &KafkaSink::on_error_cb);
    rd_kafka_conf_set_opaque(conf, this);

    std::array<char, 512> err{};
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err.data(), err.size());
    if (rk == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw SinkConfigError(std::string("kafka.properties: librdkafka refuses them together: ") +
                              err.data() + "; fix kafka.properties");
    }
    rk_.reset(rk);

    std::array<int, 2> wake_pipe{-1, -1};
    if (pipe2(wake_pipe.data(), O_NONBLOCK | O_CLOEXEC) != 0) {
        throw SinkError("cannot create a pipe for Kafka delivery wake-ups");
    }
    wake_read_.reset(wake_pipe[0]);
    wake_write_.reset(wake_pipe[1]);
    rd_kafka_queue_t* main_queue = rd_kafka_queue_get_main(rk);
    rd_kafka_queue_io_event_enable(main_queue, wake_write_.get(), "1", 1);
    rd_kafka_queue_destroy(main_queue);
    message_timeout_ms_ = conf_ms("message.timeout.ms", message_timeout_ms_);
    propagation_ms_ = conf_ms("topic.metadata.propagation.max.ms", propagation_ms_);
    max_message_bytes_ = static_cast<std::size_t>(
        conf_int("message.max.bytes", static_cast<int>(max_message_bytes_)));
    max_queue_bytes_ =
        static_cast<std::size_t>(conf_int("queue.buffering.max.kbytes", 65536)) * 1024;
}

int KafkaSink::conf_int(const char* name, int fallback) const {
    std::array<char, 32> buf{};
    std::size_t size = buf.size();
    if (rd_kafka_conf_get(rd_kafka_conf(rk_.get()), name, buf.data(), &size) != RD_KAFKA_CONF_OK) {
        return fallback;  // a topic property nobody set: librdkafka's default
    }
    int value = 0;
    const char* end = buf.data() + std::min(size, buf.size()) - 1;  // size counts the NUL
    const auto [ptr, ec] = std::from_chars(buf.data(), end, value);
    return ec == std::errc() && ptr == end && value > 0 ? value : fallback;
}

KafkaSink::~KafkaSink() {
    // Topic handles before the producer; the wake pipe (a member) closes after both, so
    // librdkafka never writes to a closed (or reused) descriptor.
    topics_.clear();
    rk_.reset();
}

rd_kafka_topic_t* KafkaSink::topic_handle(std::string_view name) {
    if (const auto it = topics_.find(name); it != topics_.end()) {
        return it->second.get();
    }
    const std::string owned(name);
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk_.get(), owned.c_str(), nullptr);
    if (t == nullptr) {
        throw SinkError("cannot create Kafka topic handle '" + owned +
                        "': " + rd_kafka_err2str(rd_kafka_last_error()));
    }
    topics_.emplace(owned, t);
    return t;
}

ProduceResult KafkaSink::produce_record(std::string_view topic, std::int32_t partition,
                                        bool has_key, std::string_view key, bool has_value,
                                        std::string_view value, std::uint64_t ticket) {
    const std::size_t bytes = (has_key ? key.size() : 0) + (has_value ? value.size() : 0);
    if (bytes > max_queue_bytes_) {
        // librdkafka would wait for room that never comes (QUEUE_FULL for ever).
        throw EventTooLarge("an event of " + std::to_string(bytes) + " bytes for topic '" +
                                std::string(topic) +
                                "' is larger than the producer's whole queue "
                                "(kafka.properties queue.buffering.max.kbytes = " +
                                std::to_string(max_queue_bytes_ / 1024) + ")",
                            SizeLimit::Queue, bytes);
    }
    rd_kafka_topic_t* t = topic_handle(topic);
    // NOLINTBEGIN(cppcoreguidelines-pro-type-const-cast,performance-no-int-to-ptr,
    // cppcoreguidelines-pro-type-vararg): librdkafka's varargs API copies key and value
    // (MSG_F_COPY); the ticket travels in the per-message opaque pointer.
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_RKT(t), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(has_value ? const_cast<char*>(value.data()) : nullptr,
                         has_value ? value.size() : 0),
        RD_KAFKA_V_KEY(has_key ? key.data() : nullptr, has_key ? key.size() : 0),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(ticket))),
        RD_KAFKA_V_END);
    // NOLINTEND(cppcoreguidelines-pro-type-const-cast,performance-no-int-to-ptr,
    // cppcoreguidelines-pro-type-vararg)
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        return ProduceResult::Queued;
    }
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return ProduceResult::QueueFull;
    }
    if (err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
        forget_partitions(topic);
    }
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        throw EventTooLarge("an event of " + std::to_string(bytes) + " bytes for topic '" +
                                std::string(topic) +
                                "' is over the producer's limit (kafka.properties "
                                "message.max.bytes = " +
                                std::to_string(max_message_bytes_) + ", framing included)",
                            SizeLimit::Producer, bytes);
    }
    const std::string remedy = delivery_error_remedy(err);
    throw SinkError("Kafka did not accept an event for topic '" + std::string(topic) +
                    (partition == kAnyPartition ? "" : "' partition " + std::to_string(partition)) +
                    "': " + rd_kafka_err2name(err) + " (" + rd_kafka_err2str(err) +
                    "). Nothing from that transaction on is acknowledged; " +
                    (remedy.empty() ? std::string("fix the cause") : remedy) +
                    ", then restart: the stream resumes from the last acknowledged commit");
}

void KafkaSink::forget_partitions(std::string_view topic) {
    if (const auto it = partitions_.find(topic); it != partitions_.end()) {
        partitions_.erase(it);  // the next partition_count() asks the cluster again
    }
}

PartitionCount KafkaSink::partition_count(std::string_view topic, int timeout_ms) {
    const auto now = std::chrono::steady_clock::now();
    if (const auto it = partitions_.find(topic);
        it != partitions_.end() && now - it->second.at < kPartitionCountAge) {
        return {it->second.count, false, {}};
    }
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(rk_.get(), 0, topic_handle(topic), &md, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return {0, false, std::string("no metadata from the cluster: ") + rd_kafka_err2str(err)};
    }
    PartitionCount out;
    out.why = "the cluster's metadata does not list the topic";
    for (int i = 0; i < md->topic_cnt; ++i) {
        const rd_kafka_metadata_topic_t& t = md->topics[i];
        if (topic != t.topic) {
            continue;
        }
        if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0) {
            out.count = t.partition_cnt;
            out.why.clear();
        } else {
            // UNKNOWN_TOPIC_OR_PART: no such topic, and the brokers did not create it;
            // LEADER_NOT_AVAILABLE: being created.
            out.topic_missing = t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
            out.why = std::string(rd_kafka_err2name(t.err)) + " (" + rd_kafka_err2str(t.err) + ")";
        }
    }
    rd_kafka_metadata_destroy(md);
    if (out.count > 0) {
        partitions_.insert_or_assign(std::string(topic), KnownPartitions{out.count, now});
    }
    return out;
}

int KafkaSink::wait_for_partition_count(std::string_view topic,
                                        const std::function<void()>& serve) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    auto last_warning = start;
    for (;;) {
        const PartitionCount known = partition_count(topic, 1000);
        if (known.count > 0) {
            return known.count;
        }
        const auto now = Clock::now();
        const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
        if (waited.count() >= partition_wait_ms(known.topic_missing)) {
            throw SinkError(
                "a TRUNCATE goes to every partition of topic '" + std::string(topic) +
                "', but Kafka did not say how many it has within " +
                std::to_string(waited.count() / 1000) + " s: " + known.why + ". " +
                (known.topic_missing ? "Create the topic, or enable auto.create.topics.enable on "
                                       "the brokers; "
                                     : "Check that the brokers are reachable; ") +
                "nothing from that transaction on is acknowledged, and a restart resumes from the "
                "last acknowledged commit");
        }
        if (now - last_warning >= std::chrono::seconds(5)) {
            spdlog::warn(
                "waiting for Kafka to report the partitions of topic {} (a TRUNCATE "
                "goes to each): {}",
                topic, known.why);
            last_warning = now;
        }
        serve();
    }
}

bool KafkaSink::reachable(int timeout_ms, std::string& why) {
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(rk_.get(), 0, nullptr, &md, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_poll(rk_.get(), 0);  // the error events that say why: a refusal (refusal())
        why = rd_kafka_err2str(err);
        return false;
    }
    const bool any = md->broker_cnt > 0;
    rd_kafka_metadata_destroy(md);
    if (!any) {
        why = "the cluster reported no brokers";
    }
    return any;
}

void KafkaSink::poll(int timeout_ms) {
    rd_kafka_poll(rk_.get(), timeout_ms);
}

int KafkaSink::flush(int timeout_ms) {
    rd_kafka_flush(rk_.get(), timeout_ms);
    return rd_kafka_outq_len(rk_.get());
}

int KafkaSink::outstanding() const {
    return rd_kafka_outq_len(rk_.get());
}

void KafkaSink::drain_wakeup_fd() {
    std::array<char, 256> buf{};
    while (read(wake_read_.get(), buf.data(), buf.size()) > 0) {
    }
}

void KafkaSink::on_delivery_cb(rd_kafka_t* /*rk*/, const rd_kafka_message_t* msg, void* opaque) {
    auto* self = static_cast<KafkaSink*>(opaque);
    const char* topic = rd_kafka_topic_name(msg->rkt);
    if (msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
        self->forget_partitions(topic);
    }
    const std::string_view key =
        msg->key != nullptr ? std::string_view(static_cast<const char*>(msg->key), msg->key_len)
                            : std::string_view();
    self->on_delivery_({static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(msg->_private)),
                        msg->err, topic, msg->partition, msg->offset, key,
                        msg->key_len + msg->len});
}

void KafkaSink::on_error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<KafkaSink*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        std::array<char, 512> buf{};
        const rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf.data(), buf.size());
        self->fatal_error_ = std::string(rd_kafka_err2name(orig)) + ": " + buf.data();
        self->fenced_ = is_fencing_error(orig);
        spdlog::error("Kafka producer fatal error: {}", self->fatal_error_);
        return;
    }
    if (const std::string advice =
            kafka_refusal_advice(static_cast<rd_kafka_resp_err_t>(err), reason);
        !advice.empty() && self->refusal_.empty()) {
        self->refusal_ = std::string(reason) + "\nwhat to do: " + advice;
    }
    // Transient errors (broker down, ...) are retried by librdkafka; delivery reports decide.
    spdlog::warn("Kafka: {}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
}

bool is_fencing_error(rd_kafka_resp_err_t error) {
    return error == RD_KAFKA_RESP_ERR__FENCED || error == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           error == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

std::string delivery_error_remedy(rd_kafka_resp_err_t error) {
    switch (error) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
            return "raise the topic's max.message.bytes (kafka-configs --alter --entity-type "
                   "topics --entity-name TOPIC --add-config max.message.bytes=N; or the broker's "
                   "message.max.bytes) above the event, and kafka.properties message.max.bytes "
                   "too if it is lower; or leave the large column out of the publication";
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
            return "grant the daemon's principal WRITE and DESCRIBE on the topic (kafka-acls "
                   "--add --allow-principal ... --operation Write --operation Describe)";
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
            return "create the topic, or enable auto.create.topics.enable on the brokers";
        default:
            return "";
    }
}

}  // namespace pgcs::sink
