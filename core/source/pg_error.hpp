// What a PostgreSQL failure means, from its SQLSTATE: whether the daemon stops with advice
// (authentication, privileges, configuration, a missing database or slot) or reconnects with
// backoff, whether the connection is lost, and whether a statement (a snapshot chunk's read) is
// worth running again. The one place these rules live.
#pragma once

#include <string>
#include <string_view>

namespace pgcs::source {

// SQLSTATEs acted on by name (https://www.postgresql.org/docs/current/errcodes-appendix.html).
namespace sqlstate {
inline constexpr std::string_view kInsufficientPrivilege = "42501";
inline constexpr std::string_view kObjectInUse = "55006";  // e.g. a slot another process streams
inline constexpr std::string_view kUndefinedColumn = "42703";
inline constexpr std::string_view kUndefinedTable = "42P01";
inline constexpr std::string_view kInvalidSchemaName = "3F000";
}  // namespace sqlstate

struct PgErrorClass {
    // Reconnecting (after a backoff) may help; false: the operator must act, as `advice` says.
    bool transient = false;
    std::string advice;  // empty for transient failures
    // The connection is lost or unusable: libpq's own failure (no SQLSTATE) or class 08
    // (connection exception). A new connection is needed.
    bool connection_lost = false;
    // Running the same statement again (on a new connection when lost) may succeed: the
    // connection failed, the server or an operator stopped it (class 57: shutdown, cancel,
    // starting up), or it lost a serialization conflict or a deadlock (40001, 40P01). Decided
    // by the SQLSTATE alone: a connection failure that needs the operator (a wrong password)
    // counts too, as the stream's own connection, with the same settings, reports it.
    bool retry_statement = false;
};

// From the SQLSTATE (may be empty: libpq gives none for connection failures) and the message.
PgErrorClass classify_pg_error(std::string_view sqlstate, std::string_view message);

}  // namespace pgcs::source
