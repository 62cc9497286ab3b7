// Topics that would be one; see topic_collisions.hpp.
#include "config/topic_collisions.hpp"

#include <map>

#include "core/base/topic_name.hpp"

namespace pgcs::config::detail {

std::optional<std::string> messages_topic_collision(const KafkaConfig& kafka) {
    if (kafka.messages_topic.empty() || kafka.topic_prefix.empty()) {
        return std::nullopt;  // <topic_prefix>.messages: one part after the prefix, no table's
    }
    const auto table = base::table_of_topic(kafka.topic_prefix, kafka.messages_topic);
    if (!table) {
        return std::nullopt;
    }
    return "'" + kafka.messages_topic + "' is the topic of table \"" + table->first + "\".\"" +
           table->second +
           "\" (<topic_prefix>.<schema>.<table>, see the README's \"Topic names\"), so its "
           "changes and the messages would share one topic; choose another name, e.g. '" +
           kafka.topic_prefix + ".messages' (the default)";
}

std::optional<std::string> progress_topic_collision(const KafkaConfig& kafka) {
    if (!kafka.exactly_once || kafka.progress_topic.empty() || kafka.topic_prefix.empty()) {
        return std::nullopt;  // <topic_prefix>.progress: one part after the prefix
    }
    const std::string advice =
        "; choose another name, e.g. '" + kafka.topic_prefix + ".progress' (the default)";
    if (const auto table = base::table_of_topic(kafka.topic_prefix, kafka.progress_topic)) {
        return "'" + kafka.progress_topic + "' is the topic of table \"" + table->first + "\".\"" +
               table->second + "\" (<topic_prefix>.<schema>.<table>)" + advice;
    }
    const std::string messages =
        !kafka.messages_topic.empty()
            ? kafka.messages_topic
            : kafka.topic_prefix +
                  (kafka.format == EventFormat::Debezium ? ".message" : ".messages");
    if (kafka.progress_topic == messages) {
        return "'" + kafka.progress_topic + "' is also the topic of logical decoding messages" +
               advice;
    }
    return std::nullopt;
}

std::optional<std::string> table_topic_collision(const PostgresConfig& postgres,
                                                 const KafkaConfig& kafka) {
    std::map<std::string, const TableName*> seen;
    for (const TableName& t : postgres.table_names) {
        const std::string topic = base::table_topic(kafka.topic_prefix, t.schema, t.table);
        const auto [it, added] = seen.emplace(topic, &t);
        if (!added) {
            return "tables \"" + it->second->schema + "\".\"" + it->second->table + "\" and \"" +
                   t.schema + "\".\"" + t.table + "\" would both go to topic '" + topic +
                   "' (names shortened to Kafka's 249-character limit, see the README's \"Topic "
                   "names\"); rename one of them or publish only one";
        }
    }
    return std::nullopt;
}

}  // namespace pgcs::config::detail
