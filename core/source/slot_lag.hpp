// How much WAL the slot keeps the server from recycling, for the progress picture (metrics).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>

namespace pgcs::source {

// The server's WAL position (on a standby, the last one replayed) minus the slot's
// restart_lsn; nullopt when the slot is gone or has no restart_lsn. Throws PgError.
std::optional<std::int64_t> retained_wal_bytes(PGconn* conn, const std::string& slot,
                                               bool in_recovery, int timeout_ms);

}  // namespace pgcs::source
