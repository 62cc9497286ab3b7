// An independent librdkafka consumer for tests: reads every partition of a topic from the
// beginning (explicit assignment, no group) and keeps each record with its partition/offset,
// headers, and whether its value is null (a tombstone).
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pgcs::testing {

struct Record {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::optional<std::string> key;
    std::string value;
    bool null_value = false;  // a tombstone: value is empty
    std::vector<std::pair<std::string, std::string>> headers;

    // The value of the first header called `name`.
    std::optional<std::string> header(const std::string& name) const {
        for (const auto& [n, v] : headers) {
            if (n == name) {
                return v;
            }
        }
        return std::nullopt;
    }
};

// The records that are events (not tombstones), in the same order.
inline std::vector<Record> without_tombstones(const std::vector<Record>& records) {
    std::vector<Record> out;
    for (const auto& r : records) {
        if (!r.null_value) {
            out.push_back(r);
        }
    }
    return out;
}

class KafkaReader {
  public:
    // `isolation`: read_committed (records of aborted Kafka transactions are hidden), or
    // read_uncommitted.
    explicit KafkaReader(const std::string& brokers,
                         const std::string& isolation = "read_committed") {
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        char err[512];
        auto set = [&](const char* k, const char* v) {
            if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
                throw std::runtime_error(err);
            }
        };
        set("bootstrap.servers", brokers.c_str());
        set("group.id", "pgcs-test-reader");  // required by librdkafka; no group is joined
        set("enable.auto.commit", "false");
        // End-of-partition events: visit_to_end() knows it is past a transaction's control
        // records (which take offsets but are never delivered); visit() ignores them.
        set("enable.partition.eof", "true");
        set("isolation.level", isolation.c_str());
        rk_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
        if (!rk_) {
            throw std::runtime_error(std::string("test consumer: ") + err);
        }
    }

    // Reads `topic` until at least `count` records arrived or `timeout` passed. Returns all
    // records read (possibly more than `count`), in partition/offset order per partition.
    std::vector<Record> read(const std::string& topic, std::size_t count,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        std::vector<Record> out;
        visit(topic, count, timeout, [&](Record&& r) { out.push_back(std::move(r)); });
        return out;
    }

    // Like read(), but hands each record to `f` instead of keeping it; returns how many.
    std::size_t visit(const std::string& topic, std::size_t count,
                      std::chrono::milliseconds timeout, const std::function<void(Record&&)>& f) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        const int partitions = wait_for_partitions(topic, deadline);
        std::size_t seen = 0;
        if (partitions == 0) {
            return seen;
        }
        rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
        for (int p = 0; p < partitions; ++p) {
            rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
        }
        rd_kafka_assign(rk_.get(), list);
        rd_kafka_topic_partition_list_destroy(list);
        while (seen < count && std::chrono::steady_clock::now() < deadline) {
            rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), 100);
            if (m == nullptr) {
                continue;
            }
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                ++seen;
                f(to_record(m));
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_assign(rk_.get(), nullptr);
        return seen;
    }

    // Reads every record the topic holds now: up to each partition's high watermark at the
    // time of the call. Returns how many records `f` received.
    std::size_t visit_to_end(const std::string& topic, const std::function<void(Record&&)>& f,
                             std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        const auto marks = watermarks(topic, deadline);
        const int partitions = static_cast<int>(marks.size());
        std::vector<std::int64_t> end(marks.size(), 0);
        std::int64_t remaining = 0;
        for (std::size_t p = 0; p < marks.size(); ++p) {
            const auto [low, high] = marks[p];
            end[p] = high;
            remaining += high - low;
            dropped_ += low;  // records the broker no longer holds (retention, log trimming)
        }
        if (remaining == 0) {
            return 0;
        }
        rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
        for (int p = 0; p < partitions; ++p) {
            rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
        }
        rd_kafka_assign(rk_.get(), list);
        rd_kafka_topic_partition_list_destroy(list);
        std::size_t seen = 0;
        std::vector<std::int64_t> next(end.size(), 0);
        bool gaps = false;  // offsets without a record for us: the count check cannot hold
        auto done = [&] {
            for (std::size_t p = 0; p < end.size(); ++p) {
                if (next[p] < end[p]) {
                    return false;
                }
            }
            return true;
        };
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), 100);
            if (m == nullptr) {
                continue;
            }
            const auto p = static_cast<std::size_t>(m->partition);
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                gaps = gaps || m->offset > std::max(next[p], marks[p].first);
                next[p] = m->offset + 1;
                if (m->offset < end[p]) {
                    ++seen;
                    f(to_record(m));
                }
            } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->offset > next[p]) {
                // Past records never delivered: control records of Kafka transactions (and,
                // read_committed, the aborted ones), or offsets compaction removed.
                gaps = gaps || m->offset > std::max(next[p], marks[p].first);
                next[p] = m->offset;
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_assign(rk_.get(), nullptr);
        if (!done()) {
            throw std::runtime_error("timed out reading " + topic + " to its end");
        }
        if (!gaps && static_cast<std::int64_t>(seen) != remaining) {
            throw std::runtime_error("read " + std::to_string(seen) + " records of " + topic +
                                     " where the watermarks promise " + std::to_string(remaining));
        }
        return seen;
    }

    // Reads for `quiet` more after reaching `count`: to prove nothing else arrives.
    std::vector<Record> read_all(const std::string& topic, std::size_t count,
                                 std::chrono::milliseconds quiet) {
        auto first = read(topic, count);
        if (first.size() < count) {
            return first;
        }
        return read(topic, count + 1, quiet);
    }

    // Records ever written to the topic: the sum of its partitions' high watermarks.
    std::int64_t records_written(const std::string& topic) {
        std::int64_t n = 0;
        for (const auto& mark :
             watermarks(topic, std::chrono::steady_clock::now() + std::chrono::seconds(30))) {
            n += mark.second;
        }
        return n;
    }

    // Each partition's (low, high) watermark.
    std::vector<std::pair<std::int64_t, std::int64_t>> watermarks(
        const std::string& topic, std::chrono::steady_clock::time_point deadline) {
        const int partitions = wait_for_partitions(topic, deadline);
        std::vector<std::pair<std::int64_t, std::int64_t>> marks;
        for (int p = 0; p < partitions; ++p) {
            std::int64_t low = 0;
            std::int64_t high = 0;
            if (rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), p, &low, &high, 10000) !=
                RD_KAFKA_RESP_ERR_NO_ERROR) {
                throw std::runtime_error("cannot query the watermarks of " + topic);
            }
            marks.emplace_back(low, high);
        }
        return marks;
    }

    // Records below the log start of the partitions visit_to_end() read: deleted by the broker.
    std::int64_t dropped() const { return dropped_; }

  private:
    static Record to_record(const rd_kafka_message_t* m) {
        Record r;
        r.topic = rd_kafka_topic_name(m->rkt);
        r.partition = m->partition;
        r.offset = m->offset;
        if (m->key != nullptr) {
            r.key = std::string(static_cast<const char*>(m->key), m->key_len);
        }
        if (m->payload != nullptr) {
            r.value = std::string(static_cast<const char*>(m->payload), m->len);
        } else {
            r.null_value = true;
        }
        rd_kafka_headers_t* headers = nullptr;
        // rd_kafka_message_headers() parses them into the message it belongs to: not const.
        if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(m), &headers) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char* name = nullptr;
            const void* value = nullptr;
            std::size_t size = 0;
            for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                                    RD_KAFKA_RESP_ERR_NO_ERROR;
                 ++i) {
                r.headers.emplace_back(
                    name, value != nullptr ? std::string(static_cast<const char*>(value), size)
                                           : std::string());
            }
        }
        return r;
    }

    std::int64_t dropped_ = 0;
    int wait_for_partitions(const std::string& topic,
                            std::chrono::steady_clock::time_point deadline) {
        while (std::chrono::steady_clock::now() < deadline) {
            rd_kafka_topic_t* t = rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr);
            const rd_kafka_metadata_t* md = nullptr;
            int n = 0;
            if (rd_kafka_metadata(rk_.get(), 0, t, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                    n = md->topics[0].partition_cnt;
                }
                rd_kafka_metadata_destroy(md);
            }
            rd_kafka_topic_destroy(t);
            if (n > 0) {
                return n;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        return 0;
    }

    struct Destroy {
        void operator()(rd_kafka_t* rk) const {
            rd_kafka_consumer_close(rk);
            rd_kafka_destroy(rk);
        }
    };
    std::unique_ptr<rd_kafka_t, Destroy> rk_;
};

}  // namespace pgcs::testing
