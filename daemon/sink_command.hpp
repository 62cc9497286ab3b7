// `pgchangeset sink --config FILE`: wires the sink section to core/apply (the consumer and the
// mirror or history applier) until SIGTERM; `pgchangeset history` reads what history mode kept.
#pragma once

#include <atomic>
#include <ostream>
#include <string>

#include "config/config.hpp"

namespace pgcs::daemon {

// 0 after a stop request; 2 for a configuration problem (no sink section);
// 1 when the target or Kafka fails or a record cannot be applied (logged with what to do).
int run_sink(const config::Config& config, const std::string& config_path,
             const std::atomic<bool>& stop);

struct HistoryArgs {
    std::string table;
    std::string key_json;
    std::string as_of;
    bool terminal = false;
};

// `pgchangeset history`: 2 without a sink section in history mode; else see run_history_query.
int run_history(const config::Config& config, const std::string& config_path,
                const HistoryArgs& args, std::ostream& out, std::ostream& err);

}  // namespace pgcs::daemon
