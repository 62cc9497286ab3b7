// The sink's Kafka side: a librdkafka consumer in group `group_id` that reads a pipeline's table
// topics and hands every record, in partition order, to a TargetApplier (mirror or history).
// Kafka's committed offsets are never used: at every assignment each partition starts at the offset
// the target stored in the same transaction as the rows (exactly once at the target).
// https://github.com/confluentinc/librdkafka/blob/master/INTRODUCTION.md#consumer
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "core/apply/target_applier.hpp"

namespace pgcs::apply {

struct SinkConsumerSettings {
    std::string brokers;
    std::vector<std::pair<std::string, std::string>> properties;  // kafka.properties
    std::string group_id;
    std::vector<std::string> topics;  // by name; empty: `topic_regex`
    std::string topic_regex;          // librdkafka regex subscription ("^...")
    int batch_rows = 5000;
    int batch_time_ms = 200;
};

// A record that is not what the sink can apply, or Kafka refusing the consumer: what() names
// the record (topic[partition]@offset) or the property, and what to do.
class SinkError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Consumes until `stop` is set, then commits what is applied and leaves the group. Throws
// SinkError or TargetError; a batch not committed is rolled back by the target.
void run_sink_consumer(const SinkConsumerSettings& settings, TargetApplier& applier,
                       const std::atomic<bool>& stop);

// The subscription regex for every table topic under `prefix`: <prefix>.<schema>.<table>, not
// the messages topic (<prefix>.messages).
std::string table_topics_regex(const std::string& prefix);

}  // namespace pgcs::apply
