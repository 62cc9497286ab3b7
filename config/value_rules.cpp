// Validation of single configuration values; see value_rules.hpp.
#include "config/value_rules.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace pgcs::config::detail {
namespace {

bool is_lower_or_digit(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_ascii_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Reads one identifier at `pos` the way PostgreSQL's scanner does: a double-quoted identifier
// ("" is a quote) is taken as written, an unquoted one is folded to lower case.
// https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS
std::optional<std::string> read_identifier(std::string_view text, std::size_t& pos,
                                           std::string& error) {
    std::string name;
    if (pos < text.size() && text[pos] == '"') {
        ++pos;
        while (true) {
            if (pos >= text.size()) {
                error = "a double-quoted name is not closed; add the closing '\"'";
                return std::nullopt;
            }
            if (text[pos] == '"') {
                if (pos + 1 < text.size() && text[pos + 1] == '"') {
                    name += '"';
                    pos += 2;
                    continue;
                }
                ++pos;
                break;
            }
            name += text[pos++];
        }
        if (name.empty()) {
            error = "a double-quoted name must not be empty";
            return std::nullopt;
        }
    } else {
        auto is_start = [](char c) {
            return is_ascii_letter(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
        };
        if (pos >= text.size() || !is_start(text[pos])) {
            error = pos >= text.size()
                        ? "a name is missing"
                        : "unexpected character '" + std::string(1, text[pos]) +
                              "'; put a name with spaces or special characters in double quotes, "
                              "e.g. \"My Schema\".\"My Table\"";
            return std::nullopt;
        }
        while (pos < text.size() && (is_start(text[pos]) ||
                                     (text[pos] >= '0' && text[pos] <= '9') || text[pos] == '$')) {
            char c = text[pos++];
            name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
        }
    }
    if (name.size() > kMaxPgNameBytes) {
        error = "the name '" + name + "' is longer than PostgreSQL's limit of 63 bytes";
        return std::nullopt;
    }
    return name;
}

}  // namespace

std::optional<std::string> check_slot_name(std::string_view slot) {
    // PostgreSQL's ReplicationSlotValidateName(): [a-z0-9_], 1 to NAMEDATALEN - 1 bytes.
    bool ok = !slot.empty() && slot.size() <= kMaxPgNameBytes &&
              std::all_of(slot.begin(), slot.end(),
                          [](char c) { return is_lower_or_digit(c) || c == '_'; });
    if (ok) {
        return std::nullopt;
    }
    return "'" + std::string(slot) +
           "' is not a valid replication slot name: PostgreSQL allows only lower-case letters, "
           "digits and underscores, 1 to 63 characters";
}

std::optional<std::string> check_publication_name(std::string_view publication) {
    // Lower case only: pgoutput's publication_names option folds unquoted names to lower case,
    // so a name with upper-case letters would not be found again.
    bool ok = !publication.empty() && publication.size() <= kMaxPgNameBytes &&
              (publication.front() == '_' ||
               (publication.front() >= 'a' && publication.front() <= 'z')) &&
              std::all_of(publication.begin(), publication.end(),
                          [](char c) { return is_lower_or_digit(c) || c == '_' || c == '$'; });
    if (ok) {
        return std::nullopt;
    }
    return "'" + std::string(publication) +
           "' is not a valid publication name: use lower-case letters, digits, '_' and '$', "
           "starting with a letter or '_', 1 to 63 characters";
}

namespace {

// Kafka topic names use [A-Za-z0-9._-] only.
std::optional<std::string> check_topic_characters(std::string_view name) {
    auto bad = std::find_if(name.begin(), name.end(), [](char c) {
        return !(is_ascii_letter(c) || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
    });
    if (bad == name.end()) {
        return std::nullopt;
    }
    return "'" + std::string(name) + "' contains '" + std::string(1, *bad) +
           "', which Kafka does not allow in a topic name; use only letters, digits, '.', '_' "
           "and '-'";
}

}  // namespace

std::optional<std::string> check_topic_prefix(std::string_view prefix) {
    if (prefix.empty()) {
        return std::string("must not be empty: topics are named <topic_prefix>.<schema>.<table>");
    }
    if (auto error = check_topic_characters(prefix)) {
        return error;
    }
    if (prefix.size() > kMaxTopicPrefixLength) {
        return "is " + std::to_string(prefix.size()) + " characters long; use at most " +
               std::to_string(kMaxTopicPrefixLength) +
               " so that <topic_prefix>.<schema>.<table> stays within Kafka's " +
               std::to_string(kMaxTopicLength) + "-character topic limit for any table name";
    }
    return std::nullopt;
}

std::optional<std::string> check_topic_name(std::string_view topic) {
    if (topic.empty()) {
        return std::string("must not be empty; name a Kafka topic, or remove the key");
    }
    if (topic.size() > kMaxTopicLength) {
        return "is " + std::to_string(topic.size()) + " characters long; Kafka allows at most " +
               std::to_string(kMaxTopicLength);
    }
    if (auto error = check_topic_characters(topic)) {
        return error;
    }
    return std::nullopt;
}

std::optional<std::string> parse_byte_size(std::string_view text, std::uint64_t& bytes) {
    const auto fail = [&] {
        return "'" + std::string(text) +
               "' is not a size; give bytes as digits or with a unit: kB, MB, GB (e.g. 64MB)";
    };
    std::uint64_t number = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, number);
    if (ptr == text.data() || ec != std::errc()) {
        return fail();
    }
    std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
    while (!unit.empty() && unit.front() == ' ') {
        unit.remove_prefix(1);
    }
    int shift = 0;
    if (unit == "kB" || unit == "KB") {
        shift = 10;
    } else if (unit == "MB") {
        shift = 20;
    } else if (unit == "GB") {
        shift = 30;
    } else if (!unit.empty() && unit != "B") {
        return fail();
    }
    if (number > (std::uint64_t{1} << (63 - shift))) {
        return "'" + std::string(text) + "' is too large";
    }
    number <<= shift;
    if (number < (std::uint64_t{64} << 10)) {
        return "'" + std::string(text) + "' is below the minimum of 64kB";
    }
    bytes = number;
    return std::nullopt;
}

std::optional<std::string> check_log_level(std::string_view level) {
    static constexpr std::array<std::string_view, 7> kLevels = {"trace", "debug",    "info", "warn",
                                                                "error", "critical", "off"};
    if (std::find(kLevels.begin(), kLevels.end(), level) != kLevels.end()) {
        return std::nullopt;
    }
    return "'" + std::string(level) +
           "' is not a log level; use one of trace, debug, info, warn, error, critical, off";
}

std::optional<std::string> check_brokers(std::string_view brokers) {
    if (brokers.find_first_not_of(" \t") == std::string_view::npos) {
        return std::string(
            "must not be empty; list the bootstrap brokers as host:port, separated by commas");
    }
    std::size_t start = 0;
    while (true) {
        std::size_t comma = brokers.find(',', start);
        std::string_view item = brokers.substr(start, comma - start);
        if (item.find_first_not_of(" \t") == std::string_view::npos) {
            return std::string(
                "has an empty entry; list the bootstrap brokers as host:port, separated by "
                "single commas");
        }
        if (comma == std::string_view::npos) {
            return std::nullopt;
        }
        start = comma + 1;
    }
}

std::optional<TableName> parse_table_name(std::string_view text, std::string& error) {
    std::string problem;
    std::size_t pos = 0;
    TableName name;
    std::optional<std::string> schema = read_identifier(text, pos, problem);
    if (schema && pos >= text.size()) {
        problem = "the schema is missing; write schema.table, e.g. public." + *schema;
    } else if (schema && text[pos] != '.') {
        problem = "unexpected character '" + std::string(1, text[pos]) +
                  "'; put a name with spaces or special characters in double quotes, e.g. "
                  "\"My Schema\".\"My Table\"";
    } else if (schema) {
        ++pos;
        std::optional<std::string> table = read_identifier(text, pos, problem);
        if (table && pos < text.size()) {
            problem = text[pos] == '.'
                          ? std::string(
                                "has more than two parts; write schema.table, and put a "
                                "name that contains a dot in double quotes")
                          : "unexpected character '" + std::string(1, text[pos]) +
                                "'; put a name with spaces or special characters in double "
                                "quotes, e.g. \"My Schema\".\"My Table\"";
        } else if (table) {
            name.schema = std::move(*schema);
            name.table = std::move(*table);
            return name;
        }
    }
    error = "'" + std::string(text) + "' is not a table name of the form schema.table: " + problem;
    return std::nullopt;
}

std::optional<std::string> check_listen_address(const std::string& value) {
    const auto colon = value.rfind(':');
    const std::string advice =
        "; give host:port with an IPv4 address or a host name, e.g. 127.0.0.1:9187 or "
        "0.0.0.0:9187";
    if (colon == std::string::npos || colon == 0) {
        return "'" + value + "' is not host:port" + advice;
    }
    const std::string host = value.substr(0, colon);
    const std::string port = value.substr(colon + 1);
    int number = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || ptr != port.data() + port.size() || ec != std::errc() || number < 1 ||
        number > 65535) {
        return "port '" + port + "' is not a number 1..65535" + advice;
    }
    if (host.front() == '[' || host.find(':') != std::string::npos) {
        // Debian's libcivetweb (1.15) is built without USE_IPV6: it cannot listen on IPv6.
        return "'" + host +
               "' is an IPv6 address, and the HTTP server (Debian's libcivetweb) is built "
               "without IPv6" +
               advice;
    }
    for (char c : host) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '-';
        if (!ok) {
            return "host '" + host + "' is not an address or host name" + advice;
        }
    }
    return std::nullopt;
}

}  // namespace pgcs::config::detail
