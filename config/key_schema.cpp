// The keys each configuration section accepts; see key_schema.hpp.
#include "config/key_schema.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace pgcs::config::detail {
namespace {

constexpr std::array<std::string_view, 8> kTopKeys = {"postgres", "kafka", "buffer",   "reconnect",
                                                      "metrics",  "log",   "snapshot", "sink"};
constexpr std::array<std::string_view, 15> kPostgresKeys = {"conninfo",
                                                            "password_file",
                                                            "slot",
                                                            "publication",
                                                            "tables",
                                                            "status_interval_ms",
                                                            "create_publication",
                                                            "create_slot",
                                                            "heartbeat_interval_ms",
                                                            "read_timeout_ms",
                                                            "streaming",
                                                            "binary",
                                                            "messages",
                                                            "publish_via_partition_root",
                                                            "failover"};
constexpr std::array<std::string_view, 2> kBufferKeys = {"memory_limit", "spill_directory"};
constexpr std::array<std::string_view, 3> kReconnectKeys = {"initial_backoff_ms", "max_backoff_ms",
                                                            "halted_retry_ms"};
constexpr std::array<std::string_view, 3> kMetricsKeys = {"listen", "ready_max_lag_seconds",
                                                          "web_config_file"};
constexpr std::array<std::string_view, 14> kKafkaKeys = {
    "brokers",        "topic_prefix",
    "properties",     "flush_timeout_ms",
    "messages_topic", "tombstones",
    "format",         "schemas",
    "debezium",       "sasl_password_file",
    "exactly_once",   "progress_topic",
    "transaction_ms", "transaction_max_events"};
constexpr std::array<std::string_view, 1> kLogKeys = {"level"};
constexpr std::array<std::string_view, 4> kSnapshotKeys = {"mode", "chunk_size", "connections",
                                                           "table"};
constexpr std::array<std::string_view, 6> kSinkKeys = {"conninfo", "mode",       "group_id",
                                                       "tables",   "batch_rows", "batch_time_ms"};

// Names people reach for from other tools, and the key that does the job here.
struct Alias {
    std::string_view name;
    std::string_view path;
};
constexpr std::array<Alias, 6> kAliases = {{
    {"password", "postgres.password_file"},
    {"bootstrap.servers", "kafka.brokers"},
    {"bootstrap_servers", "kafka.brokers"},
    {"dsn", "postgres.conninfo"},
    {"url", "postgres.conninfo"},
    {"publication_name", "postgres.publication"},
}};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c + 32);
        }
    }
    return out;
}

// Close enough to be a typo: about one edit in three characters, at least one.
bool is_close(std::string_view typed, std::string_view known, std::size_t& distance) {
    distance = edit_distance(lower(typed), known);
    std::size_t limit = std::clamp<std::size_t>(known.size() / 3, 1, 3);
    return distance <= limit;
}

std::string join(std::string_view section, std::string_view key) {
    return section.empty() ? std::string(key) : std::string(section) + "." + std::string(key);
}

}  // namespace

std::span<const std::string_view> known_keys(std::string_view section) {
    if (section.empty()) {
        return kTopKeys;
    }
    if (section == "postgres") {
        return kPostgresKeys;
    }
    if (section == "kafka") {
        return kKafkaKeys;
    }
    if (section == "buffer") {
        return kBufferKeys;
    }
    if (section == "log") {
        return kLogKeys;
    }
    if (section == "reconnect") {
        return kReconnectKeys;
    }
    if (section == "metrics") {
        return kMetricsKeys;
    }
    if (section == "snapshot") {
        return kSnapshotKeys;
    }
    if (section == "sink") {
        return kSinkKeys;
    }
    return {};
}

std::string unknown_key_message(std::string_view section, std::string_view key) {
    // 1. A typo of a key of this section.
    std::string best;
    std::size_t best_distance = 0;
    for (std::string_view known : known_keys(section)) {
        std::size_t d = 0;
        if (is_close(key, known, d) && (best.empty() || d < best_distance)) {
            best = known;
            best_distance = d;
        }
    }
    // 2. A key of another section (or its typo), named by its full path.
    if (best.empty()) {
        for (std::string_view top : kTopKeys) {
            if (top == section) {
                continue;  // this section's own keys were tried above
            }
            for (std::string_view known : known_keys(top)) {
                std::size_t d = 0;
                if (is_close(key, known, d) && (best.empty() || d < best_distance)) {
                    best = join(top, known);
                    best_distance = d;
                }
            }
        }
    }
    // 3. A name from another tool.
    if (best.empty()) {
        for (const Alias& alias : kAliases) {
            if (lower(key) == alias.name) {
                std::string_view path = alias.path;
                std::string own = join(section, "");
                best = !section.empty() && path.starts_with(own) ? path.substr(own.size()) : path;
            }
        }
    }
    if (!best.empty()) {
        return "unknown key; did you mean '" + best + "'?";
    }
    std::string message = section.empty() ? "unknown key; the top level accepts "
                                          : "unknown key; '" + std::string(section) + "' accepts ";
    std::span<const std::string_view> keys = known_keys(section);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        message += (i == 0 ? "" : ", ") + std::string(keys[i]);
    }
    return message;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Optimal string alignment: insertions, deletions, substitutions and swaps of neighbours
    // ("lgo" -> "log") each cost one.
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) {
        d[i][0] = i;
    }
    for (std::size_t j = 0; j <= b.size(); ++j) {
        d[0][j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

}  // namespace pgcs::config::detail
