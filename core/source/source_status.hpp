// What `pgchangeset status` prints of the PostgreSQL side: the server, the slot and its lag,
// failover (postgres.failover), the publication, one "key: value" line each, and a "problem:"
// line, with what to do, for each thing that keeps `run` from streaming.
#pragma once

#include <libpq-fe.h>

#include <ostream>

#include "core/source/source_settings.hpp"

namespace pgcs::source {

// Returns true when it printed a problem. Throws PgError.
bool print_source_status(PGconn* conn, const SourceSettings& settings, std::ostream& out);

}  // namespace pgcs::source
