// What a PostgreSQL failure means, from its SQLSTATE alone (never from message text, which the
// server translates per lc_messages): whether the daemon stops with advice (authentication,
// privileges, configuration, a missing database or slot) or reconnects with backoff, whether
// the connection is lost, and whether a statement (a snapshot chunk's read) is worth running
// again. The one place these rules live.
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
inline constexpr std::string_view kUndefinedObject = "42704";  // a publication, a slot
inline constexpr std::string_view kInvalidSchemaName = "3F000";
inline constexpr std::string_view kInvalidPassword = "28P01";
inline constexpr std::string_view kInvalidAuthorization = "28000";  // pg_hba, no such role
}  // namespace sqlstate

// Where a failure happened: the same SQLSTATE can need different advice (42501 when the
// replication connection starts is the REPLICATION attribute; in a query, a privilege), and a
// refused connection is a lost one whatever its SQLSTATE.
enum class PgErrorOrigin {
    Statement,           // a query on an open connection
    Connect,             // opening a normal connection
    ReplicationConnect,  // opening the replication connection (walsender)
};

struct PgErrorClass {
    // Reconnecting (after a backoff) may help; false: the operator must act, as `advice` says.
    bool transient = false;
    std::string advice;  // empty for transient failures
    // The connection is lost or unusable: libpq's own failure (no SQLSTATE), class 08
    // (connection exception), or a connection that could not be opened. A new one is needed.
    bool connection_lost = false;
    // Running the same statement again (on a new connection when lost) may succeed: the
    // connection failed, the server or an operator stopped it (class 57: shutdown, cancel,
    // starting up), or it lost a serialization conflict or a deadlock (40001, 40P01). A
    // connection refused for a reason that needs the operator (a wrong password) counts too:
    // the stream's own connection, with the same settings, reports it and stops the daemon.
    bool retry_statement = false;
};

// From the SQLSTATE ("" when the server sent none: libpq's own failures, which are transient).
PgErrorClass classify_pg_error(std::string_view sqlstate,
                               PgErrorOrigin origin = PgErrorOrigin::Statement);

// The SQLSTATE of the last server error in a failed connection's message, "" for none. libpq
// exposes no result (hence no PQresultErrorField) for a connection the server refused; with
// PQERRORS_VERBOSE it writes each server error as "SEVERITY:  SQLSTATE: message" (the severity
// is translated, the code is not).
std::string sqlstate_of_connection_error(std::string_view verbose_message);

// What to do about a connection libpq itself refused in its TLS layer (these come without a
// SQLSTATE): a certificate that does not verify or name the host, a server without TLS under an
// sslmode that requires it, a client certificate the server refuses, a TLS file that cannot be
// read. Each needs the operator (postgres.conninfo or the certificates), never a reconnection:
// the daemon stops with exit 2. "" when the message is no such refusal. The message is read as
// libpq wrote it: in English, as the daemon never sets a locale (libpq translates only for a
// program that calls setlocale), and OpenSSL's reasons are English in any locale.
std::string tls_refusal_advice(std::string_view libpq_message);

// The verbose message without its "LOCATION:  function, file.c:line" lines (source positions
// of the server, noise for an operator); the label may be translated, the shape is not.
std::string without_location_lines(std::string_view verbose_message);

}  // namespace pgcs::source
