// The relations a transaction's changes refer to: each Relation message defined in the
// RelationCache with what only the catalog knows (the column types, a type dropped since named
// as the stream's Type message said, the primary key under REPLICA IDENTITY FULL or NOTHING, the
// NOT NULL columns), and each relation's topic and schema.table name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/changeset/relation_cache.hpp"
#include "core/changeset/type_registry.hpp"
#include "core/pgoutput/messages.hpp"
#include "core/source/catalog.hpp"

namespace pgcs::source {

class RelationDirectory {
  public:
    // `binary`: postgres.binary (a dropped type's values come in their send form).
    RelationDirectory(std::string topic_prefix, bool binary, changeset::TypeRegistry& types)
        : topic_prefix_(std::move(topic_prefix)), binary_(binary), types_(types) {}

    // After each (re)connect: relations are described with this catalog connection.
    void set_catalog(const Catalog& catalog) { catalog_ = &catalog; }

    // A Relation message; `not_null`: the encoder wants the NOT NULL columns (from the catalog);
    // `format_key`: it keys by the primary key, else the first unique index (the debezium
    // format), read from the catalog.
    const changeset::RelationInfo& define(const pgoutput::Relation& relation, bool not_null,
                                          bool format_key);
    // A Type message: its name, for a type dropped before its Relation is read.
    void on_type(const pgoutput::Type& type);

    const changeset::RelationInfo& get(std::uint32_t oid) const { return relations_.get(oid); }
    // The topic of a relation (also of one only a snapshot has seen so far).
    const std::string& topic_for(const changeset::RelationInfo& relation);
    // schema.table of a relation defined or given a topic ("" otherwise).
    const std::string& name_of(std::uint32_t oid) { return names_[oid]; }
    // The table (schema.table) whose events go to `topic`; the topic itself when none does.
    std::string table_of_topic(std::string_view topic) const;

  private:
    // Registers a column type pg_type no longer has, named as its Type message said: written
    // as PostgreSQL's text form (in binary mode, the base64 of its send form).
    void register_dropped_type(std::uint32_t oid);
    // The primary key define() needs under REPLICA IDENTITY FULL or NOTHING, from the catalog;
    // for a table already dropped, the key last known for its OID, else none (a warning).
    std::vector<std::string> catalog_key(const pgoutput::Relation& relation);

    std::string topic_prefix_;
    bool binary_;
    changeset::TypeRegistry& types_;
    const Catalog* catalog_ = nullptr;
    changeset::RelationCache relations_;
    std::unordered_map<std::uint32_t, std::string> topics_;  // relation OID -> topic
    std::unordered_map<std::uint32_t, std::string> names_;   // relation OID -> schema.table
    // Type OID -> the name its last pgoutput Type message gave: what a type the catalog no
    // longer has is called (see register_dropped_type).
    std::unordered_map<std::uint32_t, std::string> type_names_;
    std::unordered_set<std::uint32_t> gone_tables_;  // dropped tables already logged
};

}  // namespace pgcs::source
