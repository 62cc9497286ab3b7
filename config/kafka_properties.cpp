// Which kafka.properties entries the daemon accepts; see kafka_properties.hpp.
#include "config/kafka_properties.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>

namespace pgcs::config::detail {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
    });
}

bool is_true(std::string_view v) {
    return iequals(v, "true") || iequals(v, "t") || v == "1";
}

bool is_false(std::string_view v) {
    return iequals(v, "false") || iequals(v, "f") || v == "0";
}

std::optional<long long> as_integer(std::string_view v) {
    long long n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) {
        return std::nullopt;
    }
    return n;
}

// Properties whose values are secrets: librdkafka's message is not repeated for them.
bool is_secret(std::string_view name) {
    return name.find("password") != std::string_view::npos ||
           name.find("secret") != std::string_view::npos ||
           name.find("sasl.oauthbearer.config") != std::string_view::npos;
}

// The daemon's own rules. `name` is without a "topic." prefix (librdkafka accepts topic-level
// properties on the global configuration both with and without it).
std::optional<std::string> check_guarantees(std::string_view name, std::string_view value) {
    const std::string v(value);
    if (name == "bootstrap.servers" || name == "metadata.broker.list") {
        return "the daemon sets " + std::string(name) +
               " from kafka.brokers; remove this property and list the brokers in "
               "kafka.brokers";
    }
    if (name == "enable.idempotence" && !is_true(value)) {
        return std::string(
            "must stay true: without the idempotent producer a retried send can duplicate or "
            "reorder the events of one key; remove this property");
    }
    if ((name == "acks" || name == "request.required.acks") &&
        !(iequals(value, "all") || value == "-1")) {
        return "'" + v +
               "' would let Kafka confirm an event that a broker failure can still lose, after "
               "the daemon has let PostgreSQL discard its WAL; the daemon needs " +
               std::string(name) + "=all (or -1): remove this property";
    }
    if (name == "delivery.report.only.error" && !is_false(value)) {
        return std::string(
            "must stay false: the daemon confirms progress to PostgreSQL only from successful "
            "delivery reports; remove this property");
    }
    if (name == "partitioner") {
        // Each of these puts one key on one partition (the _random ones spread only events
        // without a key); "random" spreads one key over every partition.
        static constexpr std::array<std::string_view, 6> kKeyed = {
            "murmur2",           "murmur2_random", "consistent",
            "consistent_random", "fnv1a",          "fnv1a_random"};
        if (std::find(kKeyed.begin(), kKeyed.end(), value) == kKeyed.end()) {
            return "'" + v +
                   "' does not keep the events of one key on one partition, so consumers "
                   "would see them out of order; use murmur2_random (the daemon's default, as "
                   "Java clients), murmur2, consistent_random, consistent, fnv1a_random or "
                   "fnv1a, or remove this property";
        }
    }
    if (name == "max.in.flight.requests.per.connection" || name == "max.in.flight") {
        std::optional<long long> n = as_integer(value);
        if (n && *n > 5) {
            return "'" + v +
                   "' is above 5, the most the idempotent producer allows while keeping the "
                   "order of one key's events; use 1 to 5, or remove this property";
        }
    }
    if (name == "retries" || name == "message.send.max.retries") {
        std::optional<long long> n = as_integer(value);
        if (n && *n == 0) {
            return std::string(
                "must not be 0: the idempotent producer needs retries to deliver every event "
                "after a transient broker error; remove this property");
        }
    }
    if (name == "transactional.id") {
        return std::string(
            "the daemon sets it itself under kafka.exactly_once: true (pgchangeset.<topic_prefix>."
            "<slot>, so a daemon that takes the slot over fences the one before); a "
            "transactional producer it did not manage would fail its sends: remove this property "
            "and set kafka.exactly_once: true for Kafka transactions");
    }
    if (name == "queuing.strategy" && value != "fifo") {
        return "'" + v +
               "' would send later events first and break their order; remove this property";
    }
    return std::nullopt;
}

using ConfPtr = std::unique_ptr<rd_kafka_conf_t, decltype(&rd_kafka_conf_destroy)>;

// librdkafka's own verdict: unknown property, bad value, out of range.
std::optional<std::string> check_with_librdkafka(const std::string& name,
                                                 const std::string& value) {
    ConfPtr conf(rd_kafka_conf_new(), &rd_kafka_conf_destroy);
    std::array<char, 512> err{};
    const rd_kafka_conf_res_t res =
        rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), err.data(), err.size());
    if (res == RD_KAFKA_CONF_OK) {
        return std::nullopt;
    }
    if (res == RD_KAFKA_CONF_UNKNOWN) {
        return "librdkafka " + std::string(rd_kafka_version_str()) +
               " has no such property; check its name in librdkafka's CONFIGURATION.md, or "
               "remove it";
    }
    std::string reason(err.data());
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) {
        reason.pop_back();
    }
    if (is_secret(name)) {
        reason = "invalid value";
    }
    return "librdkafka refuses this value (" + reason +
           "); see librdkafka's CONFIGURATION.md for the property's values";
}

}  // namespace

std::optional<std::string> check_kafka_property(std::string_view name, std::string_view value) {
    std::string_view plain = name;
    if (plain.substr(0, 6) == "topic.") {
        plain.remove_prefix(6);
    }
    if (std::optional<std::string> error = check_guarantees(plain, value)) {
        return error;
    }
    return check_with_librdkafka(std::string(name), std::string(value));
}

}  // namespace pgcs::config::detail
