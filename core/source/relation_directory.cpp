// Relation messages defined with the catalog's knowledge; see relation_directory.hpp.
#include "core/source/relation_directory.hpp"

#include <spdlog/spdlog.h>

#include "core/base/topic_name.hpp"

namespace pgcs::source {

void RelationDirectory::on_type(const pgoutput::Type& type) {
    if (type_names_.size() >= 4096 && !type_names_.contains(type.oid)) {
        type_names_.clear();  // many types: start over rather than grow
    }
    type_names_[type.oid] = std::string(type.name);
}

void RelationDirectory::register_dropped_type(std::uint32_t oid) {
    const auto known = type_names_.find(oid);
    changeset::CatalogType t;
    t.oid = oid;
    t.name = known != type_names_.end() ? known->second : "unknown type OID " + std::to_string(oid);
    if (binary_) {
        // Its values come in their binary send form, which only the type's functions could
        // print: written as bytes (base64), like a domain over bytea.
        t.typtype = 'd';
        t.base_oid = 17;  // bytea
    }
    types_.add(t);
    spdlog::warn(
        "type {} (OID {}) is no longer in the catalog (dropped since the transaction "
        "being published used it): its values are written as {}",
        t.name, oid,
        binary_ ? "the base64 of their binary send form" : "PostgreSQL's text form (a string)");
}

std::vector<std::string> RelationDirectory::catalog_key(const pgoutput::Relation& relation) {
    if (!changeset::RelationCache::needs_catalog_key(relation.replica_identity)) {
        return {};  // DEFAULT, INDEX: pgoutput flags the key columns itself
    }
    // Asked once per Relation message: the answer stays with this definition of the table
    // until the next Relation message for it (README, "Keys under REPLICA IDENTITY FULL").
    if (auto pk = catalog_->primary_key_if_exists(relation.oid)) {
        return std::move(*pk);
    }
    const std::string name = std::string(relation.schema) + "." + std::string(relation.name);
    auto known = relations_.key_columns(relation.oid);
    const bool first = gone_tables_.insert(relation.oid).second;
    if (known) {
        if (first) {
            spdlog::info(
                "table {} (OID {}) is no longer in the catalog (dropped since the transaction "
                "being published changed it): its events keep the key of its earlier "
                "definition ({} column(s))",
                name, relation.oid, known->size());
        }
        return std::move(*known);
    }
    if (first) {
        spdlog::warn(
            "table {} (OID {}) is no longer in the catalog (dropped since the transaction being "
            "published changed it) and has REPLICA IDENTITY {}: the stream does not say which "
            "columns were its primary key, so its events have a null key",
            name, relation.oid, relation.replica_identity == 'f' ? "FULL" : "NOTHING");
    }
    return {};
}

const changeset::RelationInfo& RelationDirectory::define(const pgoutput::Relation& relation,
                                                         bool not_null, bool format_key) {
    for (const auto& c : relation.columns) {
        if (!catalog_->resolve_type(c.type_oid, types_)) {
            register_dropped_type(c.type_oid);
        }
    }
    const auto& info = relations_.define(relation, catalog_key(relation), types_);
    if (not_null) {
        relations_.set_not_null(relation.oid, catalog_->not_null_columns(relation.oid));
    }
    if (format_key) {
        // A table dropped meanwhile keeps the key the stream (or catalog_key) gave it.
        if (auto key = catalog_->primary_or_unique_key(relation.oid)) {
            relations_.set_format_key(relation.oid, *key);
        }
    }
    names_[relation.oid] = info.schema + "." + info.name;
    topics_[relation.oid] = base::table_topic(topic_prefix_, info.schema, info.name);
    return info;
}

const std::string& RelationDirectory::topic_for(const changeset::RelationInfo& relation) {
    auto topic = topics_.find(relation.oid);
    if (topic == topics_.end()) {  // a snapshot of a table the stream has not described yet
        names_[relation.oid] = relation.schema + "." + relation.name;
        topic = topics_
                    .emplace(relation.oid,
                             base::table_topic(topic_prefix_, relation.schema, relation.name))
                    .first;
    }
    return topic->second;
}

std::string RelationDirectory::table_of_topic(std::string_view topic) const {
    for (const auto& [oid, name] : topics_) {  // only when halting: a scan is cheap enough
        if (name == topic) {
            const auto table = names_.find(oid);
            return table != names_.end() ? table->second : std::string(topic);
        }
    }
    return std::string(topic);
}

}  // namespace pgcs::source
