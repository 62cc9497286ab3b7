// `pgchangeset sink`: the sink section to core/apply; see sink_command.hpp.
#include "daemon/sink_command.hpp"

#include <spdlog/spdlog.h>

#include <memory>

#include "core/apply/history_applier.hpp"
#include "core/apply/history_query.hpp"
#include "core/apply/mirror_applier.hpp"
#include "core/apply/sink_consumer.hpp"
#include "core/base/topic_name.hpp"
#include "daemon/stream_loop.hpp"

namespace pgcs::daemon {

int run_sink(const config::Config& config, const std::string& config_path,
             const std::atomic<bool>& stop) {
    const config::SinkConfig& sink = config.sink;
    if (!sink.present) {
        spdlog::error(
            "{}: the sink command needs a 'sink:' section with at least conninfo (the "
            "target PostgreSQL); see the README, \"pgchangeset sink\"",
            config_path);
        return kExitConfig;
    }
    apply::SinkConsumerSettings settings;
    settings.brokers = config.kafka.brokers;
    settings.properties = config.kafka.properties;
    settings.group_id = sink.group_id;
    settings.batch_rows = sink.batch_rows;
    settings.batch_time_ms = sink.batch_time_ms;
    const auto& tables = sink.table_names.empty() ? config.postgres.table_names : sink.table_names;
    for (const config::TableName& t : tables) {
        settings.topics.push_back(base::table_topic(config.kafka.topic_prefix, t.schema, t.table));
    }
    settings.topic_regex = apply::table_topics_regex(config.kafka.topic_prefix);
    try {
        const bool history = sink.mode == config::SinkMode::History;
        std::unique_ptr<apply::TargetApplier> applier;
        if (history) {
            applier = std::make_unique<apply::HistoryApplier>(sink.conninfo, sink.group_id);
        } else {
            applier = std::make_unique<apply::MirrorApplier>(sink.conninfo, sink.group_id);
        }
        spdlog::info("sink: group {} applying {} to the target ({})", sink.group_id,
                     settings.topics.empty() ? "every topic matching " + settings.topic_regex
                                             : std::to_string(settings.topics.size()) + " topics",
                     history ? "history" : "mirror");
        apply::run_sink_consumer(settings, *applier, stop);
    } catch (const std::exception& e) {
        spdlog::error("sink: {}", e.what());
        return kExitFailure;
    }
    spdlog::info("sink: stopped");
    return 0;
}

int run_history(const config::Config& config, const std::string& config_path,
                const HistoryArgs& args, std::ostream& out, std::ostream& err) {
    if (!config.sink.present || config.sink.mode != config::SinkMode::History) {
        err << config_path << ": the history command reads the target of a sink in history mode: "
            << (config.sink.present ? "sink.mode is mirror; set mode: history (and run "
                                      "`pgchangeset sink` with it)"
                                    : "the file has no 'sink:' section")
            << "; see the README, \"pgchangeset sink\"\n";
        return kExitConfig;
    }
    return apply::run_history_query(
        {config.sink.conninfo, args.table, args.key_json, args.as_of, args.terminal}, out, err);
}

}  // namespace pgcs::daemon
