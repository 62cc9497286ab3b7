// libpq connections, owned. Every connection, the replication one included, carries the session
// settings that make the server's text output predictable (docs/CORRECTNESS.md, "Session
// settings").
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/source/pg_error.hpp"

namespace pgcs::source {

struct PgConnDeleter {
    void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

// A PostgreSQL error; sqlstate() is the five-character code the server sent ("" for libpq's
// own failures: the network, a closed connection), origin() where it happened.
class PgError : public std::runtime_error {
  public:
    PgError(const std::string& what, std::string sqlstate,
            PgErrorOrigin origin = PgErrorOrigin::Statement)
        : std::runtime_error(what), sqlstate_(std::move(sqlstate)), origin_(origin) {}
    const std::string& sqlstate() const { return sqlstate_; }
    PgErrorOrigin origin() const { return origin_; }

  private:
    std::string sqlstate_;
    PgErrorOrigin origin_;
};

inline PgErrorClass classify_pg_error(const PgError& e) {
    return classify_pg_error(e.sqlstate(), e.origin());
}

struct ConnectionSettings {
    std::string conninfo;
    std::string password;  // overrides the conninfo's when not empty
    std::string application_name = "pgchangeset";
};

// The session options (libpq `options`) every connection of the daemon uses.
std::string session_options();

// conninfo with password=... replaced by password=******** for logs and errors.
std::string mask_conninfo(const std::string& conninfo);

// Opens a connection. A refusal is a PgError with the server's SQLSTATE (read from libpq's
// verbose message: see sqlstate_of_connection_error) and origin Connect or ReplicationConnect;
// a server that asks for a password when none is given is a StreamFailure (the operator must
// act, and libpq says so only in words). `target_session_attrs` overrides the conninfo's when
// not empty ("standby" finds the standby among its hosts).
PgConnPtr connect(const ConnectionSettings& settings, bool replication,
                  const std::string& target_session_attrs = "");

// How long a query may wait for its answer before the connection counts as lost: a server or
// network that stops answering must not freeze the daemon (TCP keepalives do not notice a path
// that still acknowledges packets but delivers nothing). The daemon sets it from
// postgres.read_timeout_ms; 30 s until then.
void set_query_timeout_ms(int timeout_ms);
int query_timeout_ms();
inline constexpr int kQueryTimeoutMs = -1;  // "the value set above"

// Runs a statement with text parameters; throws PgError unless it returns tuples/command ok.
PgResultPtr exec(PGconn* conn, const std::string& sql, const std::vector<std::string>& params = {},
                 int timeout_ms = kQueryTimeoutMs);

// PQexecParams with a timeout (see kQueryTimeoutMs); throws PgError on failure or timeout.
PgResultPtr exec_params(PGconn* conn, const std::string& sql, int count, const Oid* types,
                        const char* const* values, const int* lengths, const int* formats,
                        int timeout_ms = kQueryTimeoutMs);

// Quotes an identifier for SQL (PQescapeIdentifier).
std::string quote_ident(PGconn* conn, const std::string& ident);

}  // namespace pgcs::source
