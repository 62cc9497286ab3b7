// Start-up checks of the server and the role, before anything is created: the versions and
// settings postgres.* needs, wal_level, the tables' keys, the right to replicate, and on a
// standby the publication the primary must have made.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "core/source/catalog.hpp"
#include "core/source/pg_connection.hpp"
#include "core/source/source_settings.hpp"

namespace pgcs::source {

// What the settings ask of the server `server_version` (PQserverVersion) on a primary or a
// standby (`in_recovery`): throws UnsupportedServer (too old), ConfigFailure (postgres.failover
// before 17 or on a standby) or StreamFailure (binary or messages before 14, decoding on a
// standby before 16), each naming what to do. Logs a warning for an untested newer major.
void check_server_settings(int server_version, bool in_recovery, const SourceSettings& settings);

// SHOW wal_level: logical, else StreamFailure.
void check_wal_level(PGconn* conn);

// Warns of tables whose events will have a null key, or whose UPDATE/DELETE PostgreSQL refuses.
void warn_about_keys(PGconn* conn, const std::vector<TableName>& tables);

// On a standby nothing can be created: the publication must come from the primary, with every
// table. `published`: its tables (empty when `exists` is false). Throws StreamFailure.
void check_standby_publication(const std::string& publication, bool exists,
                               const std::vector<TableName>& published,
                               const std::vector<TableName>& tables);

// The first replication connection, where the server says whether the user may replicate: a
// refusal (42501) is a StreamFailure naming the user and the grant (`conn`, the catalog
// connection, explains the outcome). Opened before anything is created.
PgConnPtr connect_replication_checked(PGconn* conn, const ConnectionSettings& settings);

}  // namespace pgcs::source
