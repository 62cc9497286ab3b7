// The sink's Kafka consumer; see sink_consumer.hpp.
//
// TRUNCATE arrives as one `truncated` event on every partition of the table's topic. The
// consumer applies partitions independently, so emptying the table at the first partition's
// event would remove rows another partition already wrote after the TRUNCATE. Instead each
// partition that reaches a `truncated` event is paused there (a barrier per topic); when every
// partition of the topic has reached the event of that commit_lsn, everything before it in
// every partition is applied, nothing after it is: the table is emptied once, in the batch that
// stores every partition's offset past its event, and the partitions resume. This needs every
// partition of the topic in this consumer: one `pgchangeset sink` per group_id.
#include "core/apply/sink_consumer.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>

namespace pgcs::apply {
namespace {

struct KafkaDeleter {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ListDeleter {
    void operator()(rd_kafka_topic_partition_list_t* l) const {
        rd_kafka_topic_partition_list_destroy(l);
    }
};
struct MessageDeleter {
    void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using ListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

struct Barrier {
    std::uint64_t commit_lsn = 0;
    std::map<std::int32_t, std::pair<std::int64_t, EventPosition>> held;  // partition -> event
};

class Consumer {
  public:
    Consumer(const SinkConsumerSettings& settings, TargetApplier& applier)
        : settings_(settings), applier_(applier) {
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        char error[512];
        auto set = [&](const std::string& name, const std::string& value) {
            if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) !=
                RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(conf);
                throw SinkError("the Kafka consumer refuses " + name + "=" + value + ": " + error);
            }
        };
        set("bootstrap.servers", settings.brokers);
        for (const auto& [name, value] : settings.properties) {
            // kafka.properties are the producer's; the consumer takes the shared ones
            // (security, client settings) and ignores producer-only ones.
            if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) !=
                RD_KAFKA_CONF_OK) {
                spdlog::debug("sink: kafka.properties {} is not a consumer property: {}", name,
                              error);
            }
        }
        set("group.id", settings.group_id);
        set("enable.auto.commit", "false");
        set("enable.auto.offset.store", "false");
        set("auto.offset.reset", "earliest");
        set("partition.assignment.strategy", "range,roundrobin");  // eager: whole assignments
        set("topic.metadata.refresh.interval.ms", "10000");        // new tables' topics
        // A sink killed and restarted rejoins after the group forgets the old member: keep it
        // short (Kafka's group.min.session.timeout.ms is 6 s).
        set("session.timeout.ms", "6000");
        set("heartbeat.interval.ms", "1000");
        set("log_level", "4");
        rd_kafka_conf_set_opaque(conf, this);
        rd_kafka_conf_set_rebalance_cb(conf, &Consumer::on_rebalance);
        rk_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error));
        if (!rk_) {
            throw SinkError(std::string("cannot create the Kafka consumer: ") + error);
        }
        rd_kafka_poll_set_consumer(rk_.get());
        ListPtr topics(rd_kafka_topic_partition_list_new(1));
        if (settings.topics.empty()) {
            rd_kafka_topic_partition_list_add(topics.get(), settings.topic_regex.c_str(),
                                              RD_KAFKA_PARTITION_UA);
        }
        for (const std::string& topic : settings.topics) {
            rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
        }
        if (rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_.get(), topics.get())) {
            throw SinkError(std::string("cannot subscribe: ") + rd_kafka_err2str(err));
        }
    }

    // Leaves the group before the members the rebalance callback uses are destroyed; after a
    // failure nothing more is committed (the open batch is rolled back with the connection).
    ~Consumer() {
        if (!closing_) {
            closing_ = true;
            rd_kafka_consumer_close(rk_.get());
        }
    }
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;

    void run(const std::atomic<bool>& stop) {
        while (!stop.load()) {
            std::unique_ptr<rd_kafka_message_t, MessageDeleter> m(
                rd_kafka_consumer_poll(rk_.get(), 100));
            if (failure_) {
                std::rethrow_exception(failure_);
            }
            if (m) {
                handle(*m);
            }
            const auto age = std::chrono::steady_clock::now() - applier_.batch_started();
            if (applier_.pending() >= static_cast<std::size_t>(settings_.batch_rows) ||
                (applier_.pending() > 0 &&
                 (!m || age >= std::chrono::milliseconds(settings_.batch_time_ms)))) {
                applier_.commit();
            }
        }
        applier_.commit();
        applier_.sync();  // committed before the sink says it stopped
        rd_kafka_consumer_close(rk_.get());
        closing_ = true;
        if (failure_) {
            std::rethrow_exception(failure_);
        }
    }

  private:
    static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* partitions, void* opaque) {
        auto* self = static_cast<Consumer*>(opaque);
        if (self->closing_) {
            rd_kafka_assign(rk, nullptr);
            return;
        }
        try {
            self->rebalance(rk, err, partitions);
        } catch (...) {
            self->failure_ = std::current_exception();
            rd_kafka_assign(rk, nullptr);
        }
    }

    void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                   rd_kafka_topic_partition_list_t* partitions) {
        applier_.commit();  // what is applied so far, with its offsets
        barriers_.clear();
        if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
            assigned_.clear();
            rd_kafka_assign(rk, nullptr);
            return;
        }
        const auto stored = applier_.load_progress();
        assigned_.clear();
        for (int i = 0; i < partitions->cnt; ++i) {
            rd_kafka_topic_partition_t& p = partitions->elems[i];
            auto it = stored.find({p.topic, p.partition});
            p.offset = it == stored.end() || it->second.next_offset < 0 ? RD_KAFKA_OFFSET_BEGINNING
                                                                        : it->second.next_offset;
            assigned_[p.topic].push_back(p.partition);
            spdlog::info("sink: {}[{}] from offset {}", p.topic, p.partition,
                         p.offset < 0 ? std::string("beginning") : std::to_string(p.offset));
        }
        rd_kafka_assign(rk, partitions);
    }

    [[noreturn]] void bad_record(const rd_kafka_message_t& m, const std::string& why) {
        throw SinkError("the record " + std::string(rd_kafka_topic_name(m.rkt)) + "[" +
                        std::to_string(m.partition) + "]@" + std::to_string(m.offset) +
                        " cannot be applied: " + why +
                        "; the sink stops rather than skip it (its offset stays unapplied)");
    }

    void handle(const rd_kafka_message_t& m) {
        if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            return;
        }
        if (m.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            const std::string what = rd_kafka_message_errstr(&m);
            if (m.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                m.err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
                spdlog::warn("sink: {} (the topic appears when the pipeline first writes it)",
                             what);
                return;
            }
            if (rd_kafka_fatal_error(rk_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                throw SinkError("Kafka consumer failed: " + what);
            }
            spdlog::warn("sink: Kafka: {}", what);
            return;
        }
        const TopicPartition tp{rd_kafka_topic_name(m.rkt), m.partition};
        if (auto b = barriers_.find(tp.topic);
            b != barriers_.end() && b->second.held.count(tp.partition) != 0) {
            return;  // fetched before the pause took effect: read again after the barrier
        }
        if (m.payload == nullptr) {
            applier_.skip(tp, m.offset);  // a tombstone: for compaction, nothing to apply
            return;
        }
        SinkEvent event;
        try {
            event = parse_sink_event(std::string_view(static_cast<const char*>(m.payload), m.len));
        } catch (const EventError& e) {
            bad_record(m, std::string(e.what()) + " (the sink reads contract 2 native events)");
        }
        if (event.op == EventOp::Truncated && !applier_.is_repeat(tp, event)) {
            hold(m, tp, event);
            return;
        }
        applier_.apply(tp, m.offset, event);
    }

    int partition_count(const std::string& topic) {
        rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr);
        const rd_kafka_metadata_t* md = nullptr;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk_.get(), 0, rkt, &md, 10000);
        rd_kafka_topic_destroy(rkt);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1) {
            if (md != nullptr) {
                rd_kafka_metadata_destroy(md);
            }
            throw SinkError("cannot read the partitions of " + topic + ": " +
                            rd_kafka_err2str(err));
        }
        const int count = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        return count;
    }

    void hold(const rd_kafka_message_t& m, const TopicPartition& tp, const SinkEvent& event) {
        Barrier& barrier = barriers_[tp.topic];
        if (barrier.held.empty()) {
            barrier = Barrier{event.position.commit_lsn, {}};
        } else if (barrier.commit_lsn != event.position.commit_lsn) {
            bad_record(m, "a TRUNCATE at another commit_lsn than the one partition " +
                              std::to_string(barrier.held.begin()->first) + " holds");
        }
        barrier.held[tp.partition] = {m.offset, event.position};
        ListPtr one(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(one.get(), tp.topic.c_str(), tp.partition);
        rd_kafka_pause_partitions(rk_.get(), one.get());
        const int count = partition_count(tp.topic);
        if (static_cast<int>(assigned_[tp.topic].size()) < count) {
            throw SinkError("TRUNCATE of " + event.schema + "." + event.table + " in " + tp.topic +
                            ": this sink holds " + std::to_string(assigned_[tp.topic].size()) +
                            " of its " + std::to_string(count) +
                            " partitions; run one pgchangeset sink per sink.group_id");
        }
        if (static_cast<int>(barrier.held.size()) < count) {
            return;
        }
        applier_.truncate(event);
        ListPtr all(rd_kafka_topic_partition_list_new(count));
        SinkEvent own = event;
        for (const auto& [partition, held] : barrier.held) {
            // Each partition's own event: the daemon gives each its own seq, and a partition's
            // stored position must be its event's, or a repeat of the TRUNCATE (the daemon
            // sends it again after a crash) is taken for a new one and holds the partition
            // forever.
            own.position = held.second;
            applier_.apply({tp.topic, partition}, held.first, own);  // offset and position
            rd_kafka_topic_partition_list_add(all.get(), tp.topic.c_str(), partition)->offset =
                held.first + 1;
        }
        applier_.commit();
        barriers_.erase(tp.topic);
        if (rd_kafka_error_t* error = rd_kafka_seek_partitions(rk_.get(), all.get(), 10000)) {
            const std::string what = rd_kafka_error_string(error);
            rd_kafka_error_destroy(error);
            throw SinkError("cannot resume " + tp.topic + " after its TRUNCATE: " + what);
        }
        rd_kafka_resume_partitions(rk_.get(), all.get());
    }

    const SinkConsumerSettings& settings_;
    TargetApplier& applier_;
    std::unique_ptr<rd_kafka_t, KafkaDeleter> rk_;
    std::map<std::string, std::vector<std::int32_t>> assigned_;
    std::map<std::string, Barrier> barriers_;
    std::exception_ptr failure_;
    bool closing_ = false;
};

}  // namespace

std::string table_topics_regex(const std::string& prefix) {
    std::string escaped;
    for (char c : prefix) {
        if (c == '.' || c == '\\' || c == '+' || c == '*' || c == '?' || c == '(' || c == ')' ||
            c == '[' || c == ']' || c == '{' || c == '}' || c == '^' || c == '$' || c == '|') {
            escaped += '\\';
        }
        escaped += c;
    }
    return "^" + escaped + "\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$";
}

void run_sink_consumer(const SinkConsumerSettings& settings, TargetApplier& applier,
                       const std::atomic<bool>& stop) {
    Consumer consumer(settings, applier);
    consumer.run(stop);
}

}  // namespace pgcs::apply
