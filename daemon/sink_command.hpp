// `pgchangeset sink --config FILE`: wires the sink section to core/apply (the consumer and the
// mirror applier) until SIGTERM.
#pragma once

#include <atomic>

#include "config/config.hpp"

namespace pgcs::daemon {

// 0 after a stop request; 2 for a configuration problem (no sink section, a mode not built);
// 1 when the target or Kafka fails or a record cannot be applied (logged with what to do).
int run_sink(const config::Config& config, const std::string& config_path,
             const std::atomic<bool>& stop);

}  // namespace pgcs::daemon
