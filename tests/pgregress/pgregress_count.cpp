// tests/pgregress/run.sh's check: per table (schema.table), the number of INSERT, UPDATE and
// DELETE events pgchangeset put in Kafka (every topic `<prefix>.*`, read to its end by a consumer
// of its own) against the counts of an independent decoder, wal2json
// (format-version 2, one JSON object per line, as pg_recvlogical wrote them).
//
// pgchangeset writes a key change as two events, `deleted` under the old key and `added`
// (with a non-null `before`) under the new one: such an `added` counts as one UPDATE, and its
// `deleted` half is taken off the DELETEs. Tombstones (null values) and `truncated` events are
// not counted (wal2json writes one TRUNCATE per table, pgchangeset one per partition).
//
// Usage: pgregress_count --brokers HOST:PORT --prefix PREFIX --wal2json FILE [--exclude S.T]...
// Prints one line per table that differs, then a summary; exit 0 when every count is equal,
// 1 when one differs (or Kafka dropped records), 2 on bad usage or unreadable input.
#include <librdkafka/rdkafka.h>
#include <rapidjson/document.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Counts {
    std::array<std::int64_t, 3> n{};  // insert, update, delete
    bool operator==(const Counts&) const = default;
};

std::string str(const rapidjson::Value& v, const char* name) {
    const auto it = v.FindMember(name);
    if (it == v.MemberEnd() || !it->value.IsString()) {
        return {};
    }
    return {it->value.GetString(), it->value.GetStringLength()};
}

// One wal2json line. Only its head matters ("action", "schema", "table" come first): when the
// whole line is no JSON that rapidjson reads (wal2json writes numeric and float values as bare
// JSON numbers, `NaN` and `Infinity` included), the head alone, cut before the columns.
rapidjson::Document parse_wal2json(const std::string& line) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseNumbersAsStringsFlag>(line.data(), line.size());
    if (!d.HasParseError()) {
        return d;
    }
    for (const char* field : {",\"columns\":", ",\"identity\":", ",\"pk\":"}) {
        const auto cut = line.find(field);
        if (cut != std::string::npos) {
            const std::string head = line.substr(0, cut) + "}";
            rapidjson::Document h;
            h.Parse(head.data(), head.size());
            return h;
        }
    }
    return d;
}

// Hands every record of every topic `<prefix>.*` (up to each partition's high watermark at
// the time of the call) to `f`, reading all partitions at once; returns the records the broker
// no longer holds (below the partitions' log start).
std::int64_t read_all(const std::string& brokers, const std::string& prefix,
                      const std::function<void(const rd_kafka_message_t&)>& f) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [k, v] : std::vector<std::pair<const char*, std::string>>{
             {"bootstrap.servers", brokers},
             {"group.id", "pgregress-count"},  // required; no group is joined
             {"enable.auto.commit", "false"},
             {"fetch.wait.max.ms", "10"}}) {
        if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            throw std::runtime_error(err);
        }
    }
    std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> rk(
        rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err), rd_kafka_destroy);
    if (!rk) {
        throw std::runtime_error(err);
    }
    const rd_kafka_metadata_t* md = nullptr;
    if (const auto rc = rd_kafka_metadata(rk.get(), 1, nullptr, &md, 30000);
        rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw std::runtime_error(std::string("listing the topics: ") + rd_kafka_err2str(rc));
    }
    std::map<std::pair<std::string, std::int32_t>, std::int64_t> end;  // next offset to reach
    std::int64_t dropped = 0;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(16);
    for (int i = 0; i < md->topic_cnt; ++i) {
        const std::string name = md->topics[i].topic;
        if (name.rfind(prefix + ".", 0) != 0) {
            continue;
        }
        for (int p = 0; p < md->topics[i].partition_cnt; ++p) {
            const std::int32_t id = md->topics[i].partitions[p].id;
            std::int64_t low = 0;
            std::int64_t high = 0;
            if (rd_kafka_query_watermark_offsets(rk.get(), name.c_str(), id, &low, &high, 10000) !=
                RD_KAFKA_RESP_ERR_NO_ERROR) {
                rd_kafka_metadata_destroy(md);
                rd_kafka_topic_partition_list_destroy(list);
                throw std::runtime_error("cannot query the watermarks of " + name);
            }
            dropped += low;
            if (high > low) {
                end[{name, id}] = high;
                rd_kafka_topic_partition_list_add(list, name.c_str(), id)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
            }
        }
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_assign(rk.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
    while (!end.empty()) {
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("timed out reading the topics to their end");
        }
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 100);
        if (m == nullptr) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const auto it = end.find({rd_kafka_topic_name(m->rkt), m->partition});
            if (it != end.end()) {
                f(*m);
                if (m->offset + 1 >= it->second) {
                    end.erase(it);
                }
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(rk.get(), nullptr);
    return dropped;
}

}  // namespace

int main(int argc, char** argv) {
    std::string brokers;
    std::string prefix;
    std::string wal2json;
    std::set<std::string> exclude;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const std::string v = argv[i + 1];
        if (a == "--brokers") {
            brokers = v;
        } else if (a == "--prefix") {
            prefix = v;
        } else if (a == "--wal2json") {
            wal2json = v;
        } else if (a == "--exclude") {
            exclude.insert(v);
        } else {
            std::cerr << "pgregress_count: unknown argument " << a << "\n";
            return 2;
        }
    }
    if (brokers.empty() || prefix.empty() || wal2json.empty() || argc % 2 == 0) {
        std::cerr << "usage: pgregress_count --brokers HOST:PORT --prefix PREFIX --wal2json FILE "
                     "[--exclude SCHEMA.TABLE]...\n";
        return 2;
    }
    std::map<std::string, Counts> oracle;
    std::map<std::string, Counts> kafka;
    std::int64_t lines = 0;
    {
        std::ifstream in(wal2json);
        if (!in) {
            std::cerr << "pgregress_count: cannot read " << wal2json << "\n";
            return 2;
        }
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) {
                continue;
            }
            rapidjson::Document d = parse_wal2json(line);
            if (d.HasParseError() || !d.IsObject()) {
                std::cerr << "pgregress_count: " << wal2json << " line " << lines + 1
                          << " is not a JSON object\n";
                return 2;
            }
            ++lines;
            const std::string action = str(d, "action");
            const int slot = action == "I" ? 0 : action == "U" ? 1 : action == "D" ? 2 : -1;
            const std::string table = str(d, "schema") + "." + str(d, "table");
            if (slot >= 0 && exclude.count(table) == 0) {
                ++oracle[table].n[static_cast<std::size_t>(slot)];
            }
        }
    }
    std::int64_t events = 0;
    std::int64_t dropped = 0;
    try {
        dropped = read_all(brokers, prefix, [&](const rd_kafka_message_t& m) {
            if (m.payload == nullptr) {
                return;  // a tombstone
            }
            rapidjson::Document d;
            d.Parse<rapidjson::kParseNumbersAsStringsFlag>(static_cast<const char*>(m.payload),
                                                           m.len);
            if (d.HasParseError() || !d.IsObject()) {
                throw std::runtime_error(std::string("an event of ") + rd_kafka_topic_name(m.rkt) +
                                         " is not a JSON object");
            }
            ++events;
            const std::string op = str(d, "op");
            const std::string table = str(d, "schema") + "." + str(d, "table");
            if (exclude.count(table) != 0) {
                return;
            }
            auto& c = kafka[table].n;
            if (op == "added") {
                const bool key_change = d.HasMember("before") && !d["before"].IsNull();
                if (key_change) {
                    ++c[1];
                    --c[2];  // its `deleted` half
                } else {
                    ++c[0];
                }
            } else if (op == "modified") {
                ++c[1];
            } else if (op == "deleted") {
                ++c[2];
            }
        });
    } catch (const std::exception& e) {
        std::cerr << "pgregress_count: reading Kafka: " << e.what() << "\n";
        return 2;
    }
    std::set<std::string> tables;
    for (const auto& [t, c] : oracle) {
        tables.insert(t);
    }
    for (const auto& [t, c] : kafka) {
        tables.insert(t);
    }
    std::int64_t differ = 0;
    std::array<std::int64_t, 3> total{};
    for (const auto& t : tables) {
        const Counts o = oracle.count(t) != 0 ? oracle[t] : Counts{};
        const Counts k = kafka.count(t) != 0 ? kafka[t] : Counts{};
        for (std::size_t i = 0; i < 3; ++i) {
            total[i] += o.n[i];
        }
        if (!(o == k)) {
            ++differ;
            std::printf(
                "DIFFERS %s: wal2json insert/update/delete %lld/%lld/%lld, Kafka %lld/%lld/%lld\n",
                t.c_str(), static_cast<long long>(o.n[0]), static_cast<long long>(o.n[1]),
                static_cast<long long>(o.n[2]), static_cast<long long>(k.n[0]),
                static_cast<long long>(k.n[1]), static_cast<long long>(k.n[2]));
        }
    }
    std::printf(
        "%zu tables; wal2json: %lld inserts, %lld updates, %lld deletes (%lld lines); "
        "Kafka: %lld events; %lld tables differ\n",
        tables.size(), static_cast<long long>(total[0]), static_cast<long long>(total[1]),
        static_cast<long long>(total[2]), static_cast<long long>(lines),
        static_cast<long long>(events), static_cast<long long>(differ));
    if (dropped > 0) {
        std::printf(
            "Kafka no longer holds %lld records (retention or the dev broker's 5 MB per "
            "partition): counts cannot match; use a broker that keeps them (--brokers)\n",
            static_cast<long long>(dropped));
    }
    return differ == 0 && dropped == 0 ? 0 : 1;
}
