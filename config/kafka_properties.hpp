// The one place that decides whether a kafka.properties entry is accepted: the daemon's own
// rules (per-key order and at-least-once delivery, docs/CORRECTNESS.md "Kafka side") first,
// then librdkafka itself on a throwaway configuration (no client, no connection).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgcs::config::detail {

// The problem with one property (its name and its value as text), or std::nullopt when the
// daemon would accept it. A message never quotes the value of a secret (sasl.password, ...).
std::optional<std::string> check_kafka_property(std::string_view name, std::string_view value);

}  // namespace pgcs::config::detail
