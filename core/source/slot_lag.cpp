// The WAL a slot retains; see slot_lag.hpp.
#include "core/source/slot_lag.hpp"

#include "core/source/pg_connection.hpp"

namespace pgcs::source {

std::optional<std::int64_t> retained_wal_bytes(PGconn* conn, const std::string& slot,
                                               bool in_recovery, int timeout_ms) {
    // A standby has no current WAL position of its own: the last one it replayed.
    auto r = exec(conn,
                  std::string("SELECT (") +
                      (in_recovery ? "pg_last_wal_replay_lsn()" : "pg_current_wal_lsn()") +
                      " - restart_lsn)::int8 FROM pg_replication_slots WHERE slot_name = $1",
                  {slot}, timeout_ms);
    if (PQntuples(r.get()) == 1 && !PQgetisnull(r.get(), 0, 0)) {
        return std::stoll(PQgetvalue(r.get(), 0, 0));
    }
    return std::nullopt;
}

}  // namespace pgcs::source
