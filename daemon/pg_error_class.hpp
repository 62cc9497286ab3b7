// Which PostgreSQL failures are worth retrying. Permanent ones (authentication, privileges,
// configuration, a missing database or slot) stop the daemon at once with advice; transient
// ones (refused, starting, shutting down, connection lost) are retried with backoff.
#pragma once

#include <string>

namespace pgcs::daemon {

struct PgErrorClass {
    bool transient = false;
    std::string advice;  // what the operator should do; empty for transient failures
};

// From the SQLSTATE (may be empty: libpq gives none for connection failures) and the message.
PgErrorClass classify_pg_error(const std::string& sqlstate, const std::string& message);

}  // namespace pgcs::daemon
