// `pgchangeset snapshot --config FILE --table schema.table [--where SQL]`: asks the daemon to
// snapshot a table (or the rows matching a condition) again, through the progress table in the
// source database, so it works wherever the daemon runs.
#pragma once

#include <ostream>
#include <string>

#include "config/config.hpp"

namespace pgcs::daemon {

// Returns 0 when the request is recorded, 1 when PostgreSQL refused or cannot be reached, 2
// when the table or the condition is wrong (each with what to do).
int run_snapshot_request(const config::Config& config, const std::string& table,
                         const std::string& condition, std::ostream& out, std::ostream& err);

}  // namespace pgcs::daemon
