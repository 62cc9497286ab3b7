// pg_xact_status() for subtransactions; see subtransaction_status.hpp.
#include "core/source/subtransaction_status.hpp"

#include <chrono>
#include <string>
#include <thread>

#include "core/source/pg_connection.hpp"

namespace pgcs::source {

namespace {

// How long a subtransaction of a committed transaction may still count as in progress.
constexpr std::chrono::seconds kInProgressWait{30};

// The 32-bit xids as full 64-bit ones (xid8) in the epoch that puts them before the server's
// next xid (they belong to a transaction that has committed), then their status.
constexpr const char* kStatusQuery =
    "SELECT x, pg_xact_status((((n >> 32) - CASE WHEN x >= (n & 4294967295) THEN 1 ELSE 0 END)"
    " * 4294967296 + x)::text::xid8) "
    "FROM (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::int8) AS next(n), "
    "unnest($1::int8[]) AS x";

}  // namespace

SubtransactionVerdict ServerSubtransactionStatus::check(const std::vector<pgoutput::Xid>& subxids) {
    SubtransactionVerdict verdict;
    std::vector<pgoutput::Xid> ask = subxids;
    const auto deadline = std::chrono::steady_clock::now() + kInProgressWait;
    while (!ask.empty()) {
        std::string array = "{";
        for (const pgoutput::Xid x : ask) {
            if (array.size() > 1) {
                array += ',';
            }
            array += std::to_string(x);
        }
        array += '}';
        ask.clear();
        PgResultPtr r = exec(connection_(), kStatusQuery, {array});
        for (int row = 0; row < PQntuples(r.get()); ++row) {
            const auto xid = static_cast<pgoutput::Xid>(std::stoul(PQgetvalue(r.get(), row, 0)));
            const std::string status =
                PQgetisnull(r.get(), row, 1) ? "" : PQgetvalue(r.get(), row, 1);
            if (status.empty()) {
                verdict.unknown.push_back(xid);
            } else if (status == "aborted") {
                verdict.aborted.push_back(xid);
            } else if (status == "in progress") {
                // The commit record is in the WAL before the committing backend marks it in
                // pg_xact: ask again until it has (never guess "aborted" from this).
                ask.push_back(xid);
            }
        }
        if (!ask.empty()) {
            if (std::chrono::steady_clock::now() >= deadline) {
                // Transient (no SQLSTATE): the stream reconnects and asks again.
                throw PgError("subtransaction " + std::to_string(ask.front()) +
                                  " of a committed transaction is still in progress for "
                                  "pg_xact_status() after " +
                                  std::to_string(kInProgressWait.count()) + " s",
                              "");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    return verdict;
}

}  // namespace pgcs::source
