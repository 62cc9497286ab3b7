// The Kafka topic of a table: <topic_prefix>.<schema part>.<table part>, each part the name with
// every byte outside [A-Za-z0-9_] written as '-' and two lower-case hex digits ("A.B" -> "A-2eB",
// "a b" -> "a-20b", '-' -> "-2d"). Ordinary names (letters, digits, '_') are unchanged; a part is
// never empty for a non-empty name and never holds '.', so the two dots split a topic back into
// prefix, schema and table. Injective: each input byte becomes either itself (a character other
// than '-') or a three-character token starting with '-', so reading a part left to right
// decodes it uniquely. Legal: only [A-Za-z0-9_-] and '.' are written. A topic longer than Kafka's
// 249 characters keeps its first 231 and ends in "-h" and 16 hex digits of the FNV-1a 64-bit
// hash of the whole topic ("-h" is no escape, so such a topic is never an unshortened one).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pgcs::base {

inline constexpr std::size_t kMaxKafkaTopicLength = 249;

// One name (a schema's or a table's) as a topic part.
std::string topic_part(std::string_view name);
// The topic of table schema.table.
std::string table_topic(std::string_view prefix, std::string_view schema, std::string_view table);
// The (schema, table) whose topic `topic` is under `prefix`, or std::nullopt when no table's
// topic is `topic` (shortened topics are not decoded).
std::optional<std::pair<std::string, std::string>> table_of_topic(std::string_view prefix,
                                                                  std::string_view topic);

}  // namespace pgcs::base
