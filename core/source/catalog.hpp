// What the source needs from the catalog, on a normal (non-replication) connection: the server
// version, the tables, the publication and slot (created if missing, publication first), key
// columns, and types that are not built in.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/changeset/type_registry.hpp"
#include "core/pgoutput/lsn.hpp"
#include "core/source/pg_connection.hpp"

namespace pgcs::source {

struct TableName {
    std::string schema;
    std::string name;
    std::string quoted;  // "schema"."name", safe to splice into SQL
};

struct SlotInfo {
    std::string plugin;
    std::string database;
    bool active = false;
    int active_pid = 0;
    Lsn confirmed_flush = 0;
    std::string wal_status;  // reserved, extended, unreserved, lost
    bool failover = false;   // PostgreSQL 17+: synchronised to standbys
    // PostgreSQL 17+: a copy synchronised from the primary (on a standby; after a promotion it
    // stays true on the promoted server).
    bool synced = false;
    bool temporary = false;  // a synchronised copy not yet persisted (the standby is behind)
};

class Catalog {
  public:
    explicit Catalog(PGconn* conn) : conn_(conn) {}

    // The connection it queries (for reads of table rows, see missing_columns.hpp).
    PGconn* connection() const { return conn_; }

    int server_version() const;
    std::string current_database() const;
    // pg_is_in_recovery(): a hot standby (read-only; no heartbeat can be written there).
    bool in_recovery() const;

    // Resolves configured "schema.table" names. Throws std::runtime_error listing every table
    // that does not exist or is not a table, and what to do.
    std::vector<TableName> resolve_tables(const std::vector<std::string>& tables) const;

    bool publication_exists(const std::string& publication) const;
    std::vector<TableName> publication_tables(const std::string& publication) const;
    // Creates the publication for `tables`, or adds the ones it lacks. Returns what it did
    // (for the log), empty when nothing.
    // `via_root`: publish_via_partition_root (PostgreSQL 13+), set when it differs. On 18 a
    // publication it creates gets publish_generated_columns = stored.
    std::string ensure_publication(const std::string& publication, bool via_root,
                                   const std::vector<TableName>& tables) const;
    // The stored generated columns of the published tables that the stream will not carry, and
    // why (14-17 never send them; on 18 the publication does not ask for them), for the log;
    // empty when none. On 18 a column list that leaves one out is taken as meant.
    std::string generated_columns_warning(const std::string& publication) const;

    std::optional<SlotInfo> slot(const std::string& slot_name) const;
    // Creates a pgoutput slot (`failover`: a failover slot, PostgreSQL 17+); returns its
    // consistent point.
    Lsn create_slot(const std::string& slot_name, bool failover = false) const;

    // Primary key column names of a relation, in key order (empty if none).
    std::vector<std::string> primary_key(std::uint32_t relation_oid) const;
    // The same in one query, but nullopt when pg_class no longer has the relation (dropped
    // since the transaction being decoded used it): "no table" is not "no primary key".
    std::optional<std::vector<std::string>> primary_key_if_exists(std::uint32_t relation_oid) const;
    // The table's NOT NULL columns (empty for a table that is gone).
    // Debezium's key columns: the primary key; without one, the plain columns of the first
    // unique index by name (as PgJDBC's getIndexInfo orders them; expressions left out);
    // nullopt when there is no such relation (dropped).
    std::optional<std::vector<std::string>> primary_or_unique_key(std::uint32_t relation_oid) const;
    std::vector<std::string> not_null_columns(std::uint32_t relation_oid) const;
    // The replica identity index's columns, in index order (empty if none).
    std::vector<std::string> replica_identity_index(std::uint32_t relation_oid) const;

    // Adds `oid` (and the types it depends on: a domain's base, an array's element) to
    // `registry` unless it is known already. False, the registry as it was, when pg_type no
    // longer has it (dropped since the transaction being decoded used it).
    bool resolve_type(std::uint32_t oid, changeset::TypeRegistry& registry) const;

  private:
    // Columns of the relation's index flagged `which` (a pg_index boolean column).
    std::vector<std::string> index_columns(std::uint32_t relation_oid, const char* which) const;

    PGconn* conn_;
};

// A slot created on a replication connection with its snapshot exported: the rows as of the
// slot's consistent point can be read (SET TRANSACTION SNAPSHOT `name`) while `conn` stays open
// and idle. Closing `conn` releases the snapshot.
struct ExportedSnapshot {
    PgConnPtr conn;
    Lsn consistent_point = 0;
    std::string name;
};
ExportedSnapshot create_slot_exporting(const ConnectionSettings& settings,
                                       const std::string& slot_name, bool failover = false);

}  // namespace pgcs::source
