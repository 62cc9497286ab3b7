// W2's consumer (tests/bench/bench.sh): creates TOPIC with broker-side timestamps
// (message.timestamp.type=LogAppendTime, the moment the broker appended the record, which is
// when it acknowledges it), reads it from its end until IDLE_MS pass without a record, and
// prints, in milliseconds, p50 p99 max of
//   commit -> acknowledged: record timestamp - commit_ts of the event
//   commit -> consumed:     time this consumer received it - commit_ts
//   commit -> captured:     captured_ts - commit_ts (PostgreSQL's part: the walsender sent the
//                           change and the daemon read it from its socket)
//   captured -> acknowledged: record timestamp - captured_ts (the daemon's and Kafka's part)
// as "events ack_p50 ack_p99 ack_max seen_p50 seen_p99 seen_max cap_p50 cap_p99 cap_max
// daemon_p50 daemon_p99 daemon_max". Same machine, same clock.
//
//   latency_probe BROKERS TOPIC READY_FILE IDLE_MS [CreateTime]
// READY_FILE is written once the consumer sits at the end of every partition. With CreateTime
// the topic keeps the producer's timestamps instead (librdkafka stamps a record when the daemon
// hands it over, rd_kafka_produce): "acknowledged" then means "handed to librdkafka", which
// separates the daemon's own delay from librdkafka's and the broker's.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

namespace {

int fail(const std::string& what) {
    std::fprintf(stderr, "latency_probe: %s\n", what.c_str());
    return 1;
}

// The timestamp FIELD ("2026-11-24T11:18:27.747526Z") -> milliseconds since the epoch (fraction
// kept); -1 if absent or malformed.
double parse_ts(const std::string& value, const std::string& field) {
    const std::string prefix = "\"" + field + "\":\"";
    const auto at = value.find(prefix);
    if (at == std::string::npos || value.size() < at + prefix.size() + 20) {
        return -1;
    }
    const std::string ts = value.substr(at + prefix.size(), 26);
    std::tm tm{};
    if (strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) {
        return -1;
    }
    double ms = static_cast<double>(timegm(&tm)) * 1000.0;
    if (ts.size() > 20 && ts[19] == '.') {
        ms += std::stod("0" + ts.substr(19, 7)) * 1000.0;
    }
    return ms;
}

double now_ms() {
    using namespace std::chrono;
    return static_cast<double>(
               duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) /
           1000.0;
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(std::lround(p * static_cast<double>(v.size() - 1)));
    return v[std::min(i, v.size() - 1)];
}

bool create_topic(rd_kafka_t* rk, const std::string& topic, const std::string& timestamp_type,
                  std::string& error) {
    char err[512];
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), 4, 1, err, sizeof err);
    if (nt == nullptr) {
        error = err;
        return false;
    }
    rd_kafka_NewTopic_set_config(nt, "message.timestamp.type", timestamp_type.c_str());
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
    bool ok = false;
    if (ev == nullptr) {
        error = "no answer to CreateTopics";
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error = rd_kafka_event_error_string(ev);
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t** res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        ok = n == 1 &&
             (rd_kafka_topic_result_error(res[0]) == RD_KAFKA_RESP_ERR_NO_ERROR ||
              rd_kafka_topic_result_error(res[0]) == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
        if (!ok && n == 1) {
            error = rd_kafka_topic_result_error_string(res[0]);
        }
    }
    if (ev != nullptr) {
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5 && !(argc == 6 && std::string(argv[5]) == "CreateTime")) {
        return fail("usage: latency_probe BROKERS TOPIC READY_FILE IDLE_MS [CreateTime]");
    }
    const std::string timestamp_type = argc == 6 ? "CreateTime" : "LogAppendTime";
    const rd_kafka_timestamp_type_t expected_type =
        argc == 6 ? RD_KAFKA_TIMESTAMP_CREATE_TIME : RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME;
    const std::string brokers = argv[1];
    const std::string topic = argv[2];
    const std::string ready_file = argv[3];
    const double idle_ms = std::stod(argv[4]);
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "group.id", "latency_probe", err, sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "fetch.wait.max.ms", "5", err, sizeof err) != RD_KAFKA_CONF_OK) {
        return fail(err);
    }
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (rk == nullptr) {
        return fail(err);
    }
    std::string error;
    if (!create_topic(rk, topic, timestamp_type, error)) {
        return fail("cannot create " + topic + ": " + error);
    }
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(4);
    for (int p = 0; p < 4; ++p) {
        rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
    }
    if (rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return fail("cannot assign the partitions of " + topic);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    // Let the consumer resolve the end offsets before anything is written.
    for (int i = 0; i < 20; ++i) {
        if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100)) {
            rd_kafka_message_destroy(m);
        }
    }
    std::ofstream(ready_file) << "ready\n";

    std::vector<double> ack;
    std::vector<double> seen;
    std::vector<double> captured;
    std::vector<double> daemon;
    double last = now_ms();
    bool wrong_timestamp_type = false;
    while (now_ms() - last < idle_ms) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (m == nullptr) {
            continue;
        }
        const double received = now_ms();
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->payload != nullptr) {
            last = received;
            const std::string value(static_cast<const char*>(m->payload), m->len);
            const double commit = parse_ts(value, "commit_ts");
            const double capture = parse_ts(value, "captured_ts");
            rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
            const auto ts = rd_kafka_message_timestamp(m, &type);
            wrong_timestamp_type |= type != expected_type;
            if (commit > 0) {
                ack.push_back(static_cast<double>(ts) - commit);
                seen.push_back(received - commit);
            }
            if (commit > 0 && capture > 0) {
                captured.push_back(capture - commit);
                daemon.push_back(static_cast<double>(ts) - capture);
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (seen.empty()) {
        return fail("no event arrived on " + topic);
    }
    if (wrong_timestamp_type) {
        return fail(topic + " does not have " + timestamp_type +
                    " timestamps: it existed before with other settings");
    }
    if (captured.size() != seen.size()) {
        return fail("events without captured_ts on " + topic);
    }
    std::printf("%zu", seen.size());
    for (auto* v : {&ack, &seen, &captured, &daemon}) {
        std::printf(" %.1f %.1f %.1f", percentile(*v, 0.5), percentile(*v, 0.99),
                    percentile(*v, 1.0));
    }
    std::printf("\n");
    return 0;
}
