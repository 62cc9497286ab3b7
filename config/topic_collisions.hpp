// Refuses a configuration two of whose topics would be one (README, "Topic names"): the topic
// of logical decoding messages (kafka.messages_topic) or the progress topic (kafka.progress_topic)
// that is some table's topic, or two tables
// of postgres.tables whose topics are one (only possible for topics shortened to Kafka's limit).
#pragma once

#include <optional>
#include <string>

#include "config/config.hpp"

namespace pgcs::config::detail {

// What collides, naming both sides and what to do, or std::nullopt.
std::optional<std::string> messages_topic_collision(const KafkaConfig& kafka);
// kafka.progress_topic (exactly_once) that is a table's topic or the messages topic.
std::optional<std::string> progress_topic_collision(const KafkaConfig& kafka);
std::optional<std::string> table_topic_collision(const PostgresConfig& postgres,
                                                 const KafkaConfig& kafka);

}  // namespace pgcs::config::detail
