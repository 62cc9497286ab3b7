// The daemon's heartbeat: a transactional logical decoding message in the source database, so
// the slot has a commit to advance to even when only other databases write (PostgreSQL 15
// skips empty transactions). Never published.
#pragma once

#include <libpq-fe.h>

#include <string_view>

#include "core/source/pg_connection.hpp"

namespace pgcs::source {

// The prefix of the heartbeat's messages.
constexpr std::string_view kHeartbeatPrefix = "pgchangeset.heartbeat";

// Writes one (on a primary; a standby is read-only). Throws PgError.
inline void emit_heartbeat(PGconn* conn) {
    exec(conn, "SELECT pg_logical_emit_message(true, '" + std::string(kHeartbeatPrefix) + "', '')");
}

}  // namespace pgcs::source
