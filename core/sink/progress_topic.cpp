// The progress topic of kafka.exactly_once; see progress_topic.hpp.
#include "core/sink/progress_topic.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>

namespace pgcs::sink {
namespace {

constexpr std::int32_t kPartition = 0;

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::max<std::int64_t>(left, 0));
}

extern "C" void quiet_log(const rd_kafka_t* /*rk*/, int /*level*/, const char* /*fac*/,
                          const char* /*buf*/) {}

struct RkDeleter {
    void operator()(rd_kafka_t* rk) const {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
};
using Consumer = std::unique_ptr<rd_kafka_t, RkDeleter>;

// A read_committed consumer with the producer's brokers and (security) properties; producer
// properties among them are ignored by librdkafka.
Consumer make_consumer(const SinkSettings& settings) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    std::array<char, 512> err{};
    auto set = [&](const std::string& k, const std::string& v) {
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err.data(), err.size()) !=
            RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw SinkConfigError("kafka property '" + k +
                                  "' for the progress topic's reader: " + err.data());
        }
    };
    set("bootstrap.servers", settings.brokers);
    for (const auto& [k, v] : settings.properties) {
        set(k, v);
    }
    set("group.id", "pgchangeset-progress-reader");  // assign() only: nothing is committed
    set("enable.auto.commit", "false");
    set("enable.auto.offset.store", "false");
    set("enable.partition.eof", "true");
    set("isolation.level", "read_committed");
    rd_kafka_conf_set_log_cb(conf, &quiet_log);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err.data(), err.size());
    if (rk == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw SinkConfigError(std::string("cannot make the progress topic's reader: ") +
                              err.data());
    }
    return Consumer(rk);
}

}  // namespace

std::string progress_value(std::string_view slot, std::string_view system, Lsn commit_lsn) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("slot");
    w.String(slot.data(), static_cast<rapidjson::SizeType>(slot.size()));
    w.Key("system");
    w.String(system.data(), static_cast<rapidjson::SizeType>(system.size()));
    w.Key("commit_lsn");
    const std::string lsn = format_lsn(commit_lsn);
    w.String(lsn.data(), static_cast<rapidjson::SizeType>(lsn.size()));
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
}

std::optional<Progress> parse_progress(std::string_view value) {
    rapidjson::Document d;
    d.Parse(value.data(), value.size());
    if (d.HasParseError() || !d.IsObject()) {
        return std::nullopt;
    }
    const auto lsn = d.FindMember("commit_lsn");
    const auto system = d.FindMember("system");
    if (lsn == d.MemberEnd() || !lsn->value.IsString() || system == d.MemberEnd() ||
        !system->value.IsString()) {
        return std::nullopt;
    }
    const auto parsed =
        parse_lsn(std::string_view(lsn->value.GetString(), lsn->value.GetStringLength()));
    if (!parsed) {
        return std::nullopt;
    }
    return Progress{std::string(system->value.GetString(), system->value.GetStringLength()),
                    *parsed};
}

// Whether the cluster lists the topic, from the metadata of every topic (a request naming it
// would have brokers with auto.create.topics.enable create it, not compacted).
bool ProgressTopic::listed(KafkaSink& sink, int timeout_ms) const {
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(sink.handle(), 1, nullptr, &md, timeout_ms) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
        return false;
    }
    bool found = false;
    for (int i = 0; i < md->topic_cnt; ++i) {
        found = found || (topic_ == md->topics[i].topic && md->topics[i].partition_cnt > 0);
    }
    rd_kafka_metadata_destroy(md);
    return found;
}

void ProgressTopic::ensure_exists(KafkaSink& sink, int timeout_ms) const {
    if (listed(sink, timeout_ms)) {
        return;
    }
    std::array<char, 512> err{};
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic_.c_str(), 1, -1, err.data(), err.size());
    if (nt == nullptr) {
        throw SinkError("cannot describe the progress topic '" + topic_ + "': " + err.data());
    }
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_queue_t* q = rd_kafka_queue_new(sink.handle());
    rd_kafka_AdminOptions_t* opts =
        rd_kafka_AdminOptions_new(sink.handle(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, err.data(), err.size());
    rd_kafka_CreateTopics(sink.handle(), &nt, 1, opts, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    std::string problem;
    if (ev == nullptr) {
        problem = "no answer within " + std::to_string(timeout_ms / 1000) + " s";
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        problem = rd_kafka_event_error_string(ev);
    } else {
        std::size_t n = 0;
        const rd_kafka_topic_result_t** results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        for (std::size_t i = 0; i < n; ++i) {
            const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
            if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                const char* s = rd_kafka_topic_result_error_string(results[i]);
                problem = std::string(rd_kafka_err2name(e)) + " (" +
                          (s != nullptr ? s : rd_kafka_err2str(e)) + ")";
            }
        }
    }
    if (ev != nullptr) {
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    if (problem.empty()) {
        return;
    }
    // Some clusters take no CreateTopics (librdkafka's mock cluster: no controller) but create
    // topics on first use: a metadata request for the topic does.
    if (sink.partition_count(topic_, std::min(timeout_ms, 5000)).count > 0) {
        spdlog::warn(
            "the progress topic {} could not be created compacted ({}); the brokers created it "
            "with their defaults: set cleanup.policy=compact on it so it stays small",
            topic_, problem);
        return;
    }
    {
        throw SinkError("cannot create the progress topic '" + topic_ +
                        "' (kafka.progress_topic): " + problem +
                        ". Create it yourself (one partition, cleanup.policy=compact), or grant "
                        "the daemon's principal CREATE on it");
    }
}

std::optional<Lsn> ProgressTopic::read_last(int timeout_ms) const {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    Consumer rk = make_consumer(settings_);
    std::int64_t low = 0;
    std::int64_t high = 0;
    const rd_kafka_resp_err_t werr = rd_kafka_query_watermark_offsets(
        rk.get(), topic_.c_str(), kPartition, &low, &high, std::max(ms_left(deadline), 1));
    if (werr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        return std::nullopt;  // no topic: nothing was ever committed
    }
    if (werr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw SinkError("cannot read the progress topic '" + topic_ +
                        "': " + rd_kafka_err2name(werr) + " (" + rd_kafka_err2str(werr) + ")");
    }
    // Windows from the end backwards: the newest record of this slot is usually the last one.
    std::int64_t stop = high;
    std::int64_t window = 256;
    while (stop > low) {
        const std::int64_t start = std::max(low, stop - window);
        rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(parts, topic_.c_str(), kPartition)->offset = start;
        const rd_kafka_resp_err_t aerr = rd_kafka_assign(rk.get(), parts);
        rd_kafka_topic_partition_list_destroy(parts);
        if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw SinkError("cannot read the progress topic '" + topic_ +
                            "': " + rd_kafka_err2str(aerr));
        }
        std::optional<Lsn> found;
        std::string other_system;
        for (bool done = false; !done;) {
            if (ms_left(deadline) == 0) {
                throw SinkError("the progress topic '" + topic_ + "' could not be read within " +
                                std::to_string(timeout_ms / 1000) +
                                " s (isolation.level=read_committed); check the brokers");
            }
            rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 100);
            if (m == nullptr) {
                continue;
            }
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                done = true;
            } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                const std::string why = rd_kafka_message_errstr(m);
                rd_kafka_message_destroy(m);
                throw SinkError("cannot read the progress topic '" + topic_ + "': " + why);
            } else if (m->offset >= stop) {
                done = true;  // read by the window before
            } else {
                if (m->key != nullptr && m->payload != nullptr &&
                    std::string_view(static_cast<const char*>(m->key), m->key_len) == slot_) {
                    if (auto p = parse_progress(
                            std::string_view(static_cast<const char*>(m->payload), m->len))) {
                        if (p->system == system_) {
                            found = p->commit_lsn;
                        } else {
                            other_system = p->system;
                        }
                    }
                }
                done = m->offset + 1 >= stop;
            }
            rd_kafka_message_destroy(m);
        }
        if (found) {
            return found;
        }
        if (!other_system.empty()) {
            spdlog::warn(
                "the progress topic {} has records of slot {} from another PostgreSQL cluster "
                "(system identifier {}, this one is {}): they do not count; give this pipeline "
                "its own kafka.topic_prefix or kafka.progress_topic",
                topic_, slot_, other_system, system_);
            other_system.clear();
        }
        stop = start;
        window *= 4;
    }
    return std::nullopt;
}

ProduceResult ProgressTopic::produce(KafkaSink& sink, Lsn commit_lsn, std::uint64_t ticket) const {
    return sink.produce(topic_, true, slot_, progress_value(slot_, system_, commit_lsn), ticket,
                        kPartition);
}

}  // namespace pgcs::sink
