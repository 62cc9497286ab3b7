// Relations by OID, as the latest Relation message described them. A Relation message may
// come again at any time (after DDL) and replaces the entry; a recreated table has a new OID.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/changeset/type_registry.hpp"
#include "core/pgoutput/messages.hpp"

namespace pgcs::changeset {

struct RelationColumn {
    std::string name;
    Oid type_oid = 0;
    std::int32_t type_modifier = -1;
    const TypeInfo* type = nullptr;  // resolved through the TypeRegistry
    bool is_key = false;             // part of the Kafka key
    // Part of the key of formats that key differently (Debezium: the primary key, else the
    // first unique index). Equals is_key until set_format_key() replaces it.
    bool is_format_key = false;
    bool not_null = false;  // attnotnull; read only for formats that need it (Debezium's schemas)
};

struct RelationInfo {
    Oid oid = 0;
    std::string schema;
    std::string name;
    char replica_identity = 'd';
    std::vector<RelationColumn> columns;
    bool has_key = false;
    bool has_format_key = false;  // some column is_format_key
    std::uint64_t version = 0;    // bumped on every redefinition of this OID
};

class UnknownRelation : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class RelationCache {
  public:
    // Defines (or redefines) a relation. The Kafka key is the replica identity columns that
    // pgoutput flags under REPLICA IDENTITY DEFAULT or INDEX; under FULL or NOTHING pgoutput
    // flags every column or none, so `primary_key` (column names from the catalog) is used.
    // Every column's type must be known to `types` (throws std::invalid_argument naming it).
    const RelationInfo& define(const pgoutput::Relation& relation,
                               const std::vector<std::string>& primary_key,
                               const TypeRegistry& types);

    // Marks the named columns of `oid`'s current definition NOT NULL (no-op if undefined).
    void set_not_null(Oid oid, const std::vector<std::string>& columns);

    // Makes the named columns of `oid`'s current definition its format key, the others not
    // (no-op if undefined).
    void set_format_key(Oid oid, const std::vector<std::string>& columns);

    // Throws UnknownRelation if no Relation message defined `oid`.
    const RelationInfo& get(Oid oid) const;
    const RelationInfo* find(Oid oid) const;

    // The key column names of the current definition of `oid`, in column order (empty: no
    // key); nullopt when no Relation message defined it.
    std::optional<std::vector<std::string>> key_columns(Oid oid) const;

    // Whether define() needs the catalog's primary key for this replica identity.
    static bool needs_catalog_key(char replica_identity) {
        return replica_identity == 'f' || replica_identity == 'n';
    }

  private:
    // unique_ptr: a RelationInfo keeps its address while the map rehashes. A redefinition
    // replaces it, so a Changeset must be encoded before the next Relation message.
    std::unordered_map<Oid, std::unique_ptr<RelationInfo>> relations_;
    std::uint64_t next_version_ = 1;
};

}  // namespace pgcs::changeset
