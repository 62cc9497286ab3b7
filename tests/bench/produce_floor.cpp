// W5's floor (tests/bench/bench.sh): what producing the snapshot's events costs librdkafka
// alone, with nothing read from PostgreSQL and nothing encoded.
//
//   produce_floor BROKERS TOPIC COUNT
//
// Reads up to 20,000 records of TOPIC (the events the daemon's snapshot just wrote) from the
// start of each partition, then produces COUNT records cycling through them, keys and values
// as they are, to TOPIC.floor through the daemon's own sink (KafkaSink: the same producer
// settings, the same produce call and delivery reports) and waits until every one is
// acknowledged. Prints, for that produce phase only (the consumer is gone by then),
// "seconds cpu_seconds peak_rss_kb", the CPU being the whole process's (the produce calls,
// delivery reports and librdkafka's threads: message sets, compression, the socket).
// Exit 1 if TOPIC has no record or a delivery fails.
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/sink/kafka_sink.hpp"

namespace {

constexpr std::size_t kMaxSamples = 20000;

int fail(const std::string& what) {
    std::fprintf(stderr, "produce_floor: %s\n", what.c_str());
    return 1;
}

struct Record {
    bool has_key;
    std::string key;
    std::string value;
};

struct KafkaDeleter {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};

// Up to kMaxSamples records of `topic`, from the start of each partition to its end.
bool read_samples(const std::string& brokers, const std::string& topic, std::vector<Record>& out,
                  std::string& error) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "group.id", "produce_floor", err, sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        error = err;
        return false;
    }
    std::unique_ptr<rd_kafka_t, KafkaDeleter> rk(
        rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
    if (!rk) {
        error = err;
        return false;
    }
    rd_kafka_topic_t* handle = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    const auto md_err = rd_kafka_metadata(rk.get(), 0, handle, &md, 10000);
    rd_kafka_topic_destroy(handle);
    if (md_err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
        md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error = "no metadata for " + topic + ": " +
                rd_kafka_err2str(md_err != RD_KAFKA_RESP_ERR_NO_ERROR ? md_err : md->topics[0].err);
        if (md != nullptr) {
            rd_kafka_metadata_destroy(md);
        }
        return false;
    }
    const int partitions = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) {
        rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    }
    const auto assign_err = rd_kafka_assign(rk.get(), parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (assign_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error = std::string("assign: ") + rd_kafka_err2str(assign_err);
        return false;
    }
    int at_end = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (at_end < partitions && out.size() < kMaxSamples) {
        if (std::chrono::steady_clock::now() > deadline) {
            error = "reading " + topic + " took over 60 s";
            return false;
        }
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 1000);
        if (m == nullptr) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            ++at_end;
        } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            error = rd_kafka_message_errstr(m);
            rd_kafka_message_destroy(m);
            return false;
        } else {
            out.push_back({m->key != nullptr,
                           std::string(static_cast<const char*>(m->key), m->key_len),
                           std::string(static_cast<const char*>(m->payload), m->len)});
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk.get());
    return true;
}

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const auto s = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return s(ru.ru_utime) + s(ru.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        return fail("usage: produce_floor BROKERS TOPIC COUNT");
    }
    const std::string brokers = argv[1];
    const std::string topic = argv[2];
    const std::uint64_t count = std::stoull(argv[3]);
    std::vector<Record> samples;
    std::string error;
    if (!read_samples(brokers, topic, samples, error)) {
        return fail(error);
    }
    if (samples.empty()) {
        return fail(topic + " has no record to produce again");
    }

    std::uint64_t acknowledged = 0;
    std::uint64_t failed = 0;
    std::string first_error;
    pgcs::sink::KafkaSink sink({brokers, {}, {}}, [&](const pgcs::sink::DeliveryReport& r) {
        if (r.error == RD_KAFKA_RESP_ERR_NO_ERROR) {
            ++acknowledged;
        } else if (failed++ == 0) {
            first_error = rd_kafka_err2str(r.error);
        }
    });
    if (!sink.reachable(10000, error)) {
        return fail("broker not reachable: " + error);
    }
    const std::string out_topic = topic + ".floor";
    std::uint64_t bytes = 0;

    const double cpu_start = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < count; ++i) {
        const Record& r = samples[i % samples.size()];
        while (sink.produce(out_topic, r.has_key, r.key, r.value, i) ==
               pgcs::sink::ProduceResult::QueueFull) {
            sink.poll(10);
        }
        bytes += r.value.size();
        if (i % 1024 == 0) {
            sink.drain_wakeup_fd();
            sink.poll(0);
        }
    }
    while (acknowledged + failed < count) {
        sink.drain_wakeup_fd();
        sink.poll(10);
        if (!sink.fatal_error().empty()) {
            return fail(sink.fatal_error());
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;

    if (failed != 0) {
        return fail(std::to_string(failed) + " records not delivered: " + first_error);
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::fprintf(
        stderr,
        "produce_floor: %llu records (values %.0f bytes on average, from %zu samples) to %s\n",
        static_cast<unsigned long long>(count),
        static_cast<double>(bytes) / static_cast<double>(count), samples.size(), out_topic.c_str());
    std::printf("%.3f %.2f %ld\n", seconds, cpu, ru.ru_maxrss);
    return 0;
}
