// When a status update is due, and a silent server. See status_schedule.hpp.
#include "core/source/status_schedule.hpp"

#include <algorithm>
#include <string>

#include "core/source/pg_connection.hpp"

namespace pgcs::source {

std::optional<StatusSchedule::Update> StatusSchedule::due(Clock::time_point now, Lsn received,
                                                          Lsn flush, bool force, bool reading) {
    if (!force && now - last_sent_ < interval_) {
        return std::nullopt;
    }
    const auto silent = now - last_heard_;
    if (reading && silent > read_timeout_) {
        throw PgError(
            "no message from PostgreSQL for " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silent).count()) +
                " s (postgres.read_timeout_ms): the server or the network is not answering",
            "");
    }
    last_sent_ = now;
    return Update{std::max(received, flush), flush, reading && silent > read_timeout_ / 2};
}

}  // namespace pgcs::source
