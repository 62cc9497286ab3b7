// Which server a connection reached, from the replication protocol's IDENTIFY_SYSTEM: the
// cluster's system identifier (a promoted standby keeps its primary's; another cluster has its
// own) and its timeline (a promotion starts a new one). And the one slot command that exists only
// there: ALTER_REPLICATION_SLOT. https://www.postgresql.org/docs/17/protocol-replication.html
#pragma once

#include <libpq-fe.h>

#include <string>

#include "core/pgoutput/lsn.hpp"

namespace pgcs::source {

struct ServerIdentity {
    std::string system_id;
    int timeline = 0;
    Lsn wal_position = 0;  // the server's current WAL flush (replay, on a standby) position
};

// IDENTIFY_SYSTEM on a replication connection. Throws PgError.
ServerIdentity identify_system(PGconn* replication_conn);

// A server reached again, against the one the daemon first reached: the same one (Same), or a
// standby of it promoted since (Promoted: a new timeline of the same system). Another cluster
// (another system identifier) throws StreamFailure: its slot is not the one streamed.
enum class IdentityChange { Same, Promoted };
IdentityChange compare_identity(const ServerIdentity& first, const ServerIdentity& seen);

// ALTER_REPLICATION_SLOT slot (FAILOVER true), PostgreSQL 17+, on a replication connection; the
// slot must not be in use. Throws PgError.
void enable_slot_failover(PGconn* replication_conn, const std::string& slot);

}  // namespace pgcs::source
