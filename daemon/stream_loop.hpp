// The daemon's one loop: replication stream in, committed transactions decoded and published,
// delivery reports folded into the acknowledgement watermark, status updates out.
#pragma once

#include <atomic>

#include "config/config.hpp"

namespace pgcs::daemon {

// Exit codes of `pgchangeset run`.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitConfig = 2;

// Streams until `stop` becomes true (exit 0) or a failure (logged; exit 1).
int run_stream(const config::Config& config, const std::atomic<bool>& stop);

}  // namespace pgcs::daemon
