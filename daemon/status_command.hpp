// `pgchangeset status --config FILE`: what an operator checks first, read from the catalog.
#pragma once

#include <ostream>

#include "config/config.hpp"

namespace pgcs::daemon {

// Prints one "key: value" line per fact. Returns 0 when the slot exists and is usable, 1
// otherwise (with the reason and what to do), also when PostgreSQL cannot be reached.
int run_status(const config::Config& config, std::ostream& out);

}  // namespace pgcs::daemon
