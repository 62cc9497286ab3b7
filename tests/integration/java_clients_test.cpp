// Against the real Apache Kafka broker only: what pgchangeset publishes, read by Kafka's own
// Java clients (a client nobody here wrote), matches the contract and what librdkafka reads.
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "support/capture_fixture.hpp"

using namespace pgcs::testing;

namespace {

struct CommandResult {
    int exit_code = -1;
    std::string output;
};

CommandResult run_command(const std::string& command) {
    CommandResult r;
    FILE* p = popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    std::size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        r.output.append(buf, n);
    }
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) {
            out.push_back(line);
        }
    }
    return out;
}

std::string script(const char* name) {
    return std::string(PGCS_SOURCE_DIR "/deploy/kafka/") + name;
}

using RecordId = std::tuple<std::int32_t, std::int64_t, std::string, std::string>;

}  // namespace

TEST_CASE("Kafka's Java console consumer reads the contract's keys, values and partitions",
          "[kafka-only]") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, name text)");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} SELECT g, 'n' || g FROM generate_series(1, 8) g");
    fx.exec("UPDATE {table} SET name = 'changed' WHERE id = 3");
    fx.exec("DELETE FROM {table} WHERE id = 5");
    const auto ours = fx.read(11);  // and the delete's tombstone
    REQUIRE(ours.size() == 11);

    const auto result = run_command(script("console-consume.sh") + " '" + brokers() + "' '" +
                                    fx.topic() + "' 11 30000 2>/dev/null");
    INFO("console consumer output:\n" << result.output);
    REQUIRE(result.exit_code == 0);
    std::set<RecordId> theirs;
    for (const auto& line : lines_of(result.output)) {
        // Partition:P<TAB>Offset:O<TAB>KEY<TAB>VALUE
        std::int32_t partition = -1;
        long long offset = -1;
        REQUIRE(std::sscanf(line.c_str(), "Partition:%d\tOffset:%lld\t", &partition, &offset) == 2);
        const auto key_start = line.find('\t', line.find('\t') + 1) + 1;
        const auto value_start = line.find('\t', key_start) + 1;
        REQUIRE(value_start > key_start);
        const std::string key = line.substr(key_start, value_start - key_start - 1);
        const std::string value = line.substr(value_start);
        if (value == "null") {  // the tombstone: the console consumer prints a null value so
            CHECK(key == "{\"id\":5}");
            theirs.emplace(partition, offset, key, value);
            continue;
        }
        auto doc = parse_json(value);  // every other value is one JSON object
        CHECK(doc.IsObject());
        CHECK(doc["table"].GetString() == fx.table());
        // The key is the compact JSON of the value's key field.
        rapidjson::StringBuffer b;
        rapidjson::Writer<rapidjson::StringBuffer> w(b);
        doc["key"].Accept(w);
        CHECK(key == b.GetString());
        theirs.emplace(partition, offset, key, value);
    }
    std::set<RecordId> expected;
    for (const auto& r : ours) {
        expected.emplace(r.partition, r.offset, r.key.value_or("null"),
                         r.null_value ? "null" : r.value);
    }
    CHECK(theirs == expected);
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("a read_committed Java group consumer and librdkafka see the same per-key order",
          "[kafka-only]") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, n int)");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} SELECT g, 0 FROM generate_series(1, 10) g");
    for (int round = 1; round <= 3; ++round) {
        fx.exec("UPDATE {table} SET n = " + std::to_string(round));
    }
    fx.exec("DELETE FROM {table} WHERE id % 2 = 0");
    const std::size_t expected = 10 * 4 + 5 + 5;  // the deletes' tombstones too
    const auto ours = fx.read(expected);
    REQUIRE(ours.size() == expected);

    const std::string group = "pgcs-test-" + unique_suffix();
    const auto result = run_command(script("topic-dump.sh") + " '" + brokers() + "' '" +
                                    fx.topic() + "' " + group + " 5 read_committed 2>/dev/null");
    INFO("TopicDump output:\n" << result.output);
    REQUIRE(result.exit_code == 0);

    // key -> [(partition, value)] in the order each consumer saw them.
    std::map<std::string, std::vector<std::pair<std::int32_t, std::string>>> java;
    std::map<std::string, std::vector<std::pair<std::int32_t, std::string>>> rdkafka;
    for (const auto& line : lines_of(result.output)) {
        auto doc = parse_json(line);
        REQUIRE(doc["key"].IsString());
        java[doc["key"].GetString()].emplace_back(
            doc["partition"].GetInt(), doc["value"].IsNull() ? "<null>" : doc["value"].GetString());
    }
    for (const auto& r : ours) {
        REQUIRE(r.key.has_value());
        rdkafka[*r.key].emplace_back(r.partition, r.null_value ? "<null>" : r.value);
    }
    CHECK(java.size() == 10);
    CHECK(java == rdkafka);
    CHECK(fx.stop_daemon().exit_code == 0);
}
