// Validation of single configuration values: PostgreSQL object names, the Kafka topic prefix,
// the log level (kafka.properties: kafka_properties.hpp). Each check returns the problem's
// message, or std::nullopt when the value is fine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace pgcs::config::detail {

// PostgreSQL limits a name to NAMEDATALEN - 1 bytes.
inline constexpr std::size_t kMaxPgNameBytes = 63;
// Kafka's limit on a topic name's length.
inline constexpr std::size_t kMaxTopicLength = 249;
// Leaves room for ".<schema>.<table>" with names of kMaxPgNameBytes each.
inline constexpr std::size_t kMaxTopicPrefixLength = kMaxTopicLength - 2 * (kMaxPgNameBytes + 1);

std::optional<std::string> check_slot_name(std::string_view slot);
std::optional<std::string> check_publication_name(std::string_view publication);
std::optional<std::string> check_topic_prefix(std::string_view prefix);
std::optional<std::string> check_topic_name(std::string_view topic);
std::optional<std::string> check_log_level(std::string_view level);
// "67108864", "64MB", "512kB", "1GB" (PostgreSQL's units, 1024-based); at least 64 kB.
std::optional<std::string> parse_byte_size(std::string_view text, std::uint64_t& bytes);
std::optional<std::string> check_brokers(std::string_view brokers);

// Parses "schema.table" (either part may be a double-quoted identifier); on failure returns
// std::nullopt and sets `error`.
std::optional<TableName> parse_table_name(std::string_view text, std::string& error);

// metrics.listen: "host:port" with an IPv4 address or a host name, port 1..65535; IPv6
// ("[::1]:9187") is refused: Debian's libcivetweb is built without IPv6.
std::optional<std::string> check_listen_address(const std::string& value);

}  // namespace pgcs::config::detail
