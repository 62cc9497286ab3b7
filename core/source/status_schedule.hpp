// When the stream loop sends PostgreSQL a standby status update, and what it says: every
// postgres.status_interval_ms, or at once when forced (the server asked for a reply, the final
// update at a stop). A server silent for half of postgres.read_timeout_ms is asked for a reply;
// one silent for all of it is a lost connection. Silence does not count while back-pressure
// keeps the loop from reading the socket.
// https://www.postgresql.org/docs/current/protocol-replication.html (Standby status update)
#pragma once

#include <chrono>
#include <optional>

#include "core/pgoutput/lsn.hpp"

namespace pgcs::source {

class StatusSchedule {
  public:
    using Clock = std::chrono::steady_clock;

    StatusSchedule(std::chrono::milliseconds interval, std::chrono::milliseconds read_timeout)
        : interval_(interval), read_timeout_(read_timeout) {}

    // A message from the server arrived (or the stream started).
    void heard(Clock::time_point now) { last_heard_ = now; }

    struct Update {
        Lsn write = 0;  // received or acknowledged, whichever is further
        Lsn flush = 0;  // acknowledged (also sent as applied)
        bool reply_requested = false;
    };
    // The update to send now, if one is due (it then counts as sent). `received`: the newest
    // WAL position received; `flush`: the acknowledged one; `reading`: the socket is being
    // read. Throws PgError when the server has been silent for the whole read timeout.
    std::optional<Update> due(Clock::time_point now, Lsn received, Lsn flush, bool force,
                              bool reading);

  private:
    std::chrono::milliseconds interval_;
    std::chrono::milliseconds read_timeout_;
    Clock::time_point last_sent_{};
    Clock::time_point last_heard_{};
};

}  // namespace pgcs::source
