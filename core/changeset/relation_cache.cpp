// Relation cache: Relation messages -> RelationInfo with resolved types and key columns.
#include "core/changeset/relation_cache.hpp"

#include <algorithm>
#include <string>

namespace pgcs::changeset {

const RelationInfo& RelationCache::define(const pgoutput::Relation& relation,
                                          const std::vector<std::string>& primary_key,
                                          const TypeRegistry& types) {
    auto info = std::make_unique<RelationInfo>();
    info->oid = relation.oid;
    // pgoutput sends an empty namespace for pg_catalog.
    info->schema = relation.schema.empty() ? "pg_catalog" : std::string(relation.schema);
    info->name = std::string(relation.name);
    info->replica_identity = relation.replica_identity;
    info->version = next_version_++;
    const bool use_catalog_key = needs_catalog_key(relation.replica_identity);
    info->columns.reserve(relation.columns.size());
    for (const auto& c : relation.columns) {
        RelationColumn col;
        col.name = std::string(c.name);
        col.type_oid = c.type_oid;
        col.type_modifier = c.type_modifier;
        col.type = types.find(c.type_oid);
        if (col.type == nullptr) {
            throw std::invalid_argument("relation " + info->schema + "." + info->name +
                                        ": column " + col.name + " has type OID " +
                                        std::to_string(c.type_oid) +
                                        " that was not resolved from the catalog");
        }
        col.is_key = use_catalog_key ? std::find(primary_key.begin(), primary_key.end(),
                                                 col.name) != primary_key.end()
                                     : c.is_key;
        col.is_format_key = col.is_key;
        info->has_key = info->has_key || col.is_key;
        info->columns.push_back(std::move(col));
    }
    info->has_format_key = info->has_key;
    auto& slot = relations_[relation.oid];
    slot = std::move(info);
    return *slot;
}

void RelationCache::set_format_key(Oid oid, const std::vector<std::string>& columns) {
    auto it = relations_.find(oid);
    if (it == relations_.end()) {
        return;
    }
    RelationInfo& info = *it->second;
    info.has_format_key = false;
    for (auto& c : info.columns) {
        c.is_format_key = std::find(columns.begin(), columns.end(), c.name) != columns.end();
        info.has_format_key = info.has_format_key || c.is_format_key;
    }
}

const RelationInfo* RelationCache::find(Oid oid) const {
    auto it = relations_.find(oid);
    return it == relations_.end() ? nullptr : it->second.get();
}

std::optional<std::vector<std::string>> RelationCache::key_columns(Oid oid) const {
    const RelationInfo* r = find(oid);
    if (r == nullptr) {
        return std::nullopt;
    }
    std::vector<std::string> out;
    for (const auto& c : r->columns) {
        if (c.is_key) {
            out.push_back(c.name);
        }
    }
    return out;
}

const RelationInfo& RelationCache::get(Oid oid) const {
    const RelationInfo* r = find(oid);
    if (r == nullptr) {
        throw UnknownRelation("change for relation OID " + std::to_string(oid) +
                              " before any Relation message described it");
    }
    return *r;
}

void RelationCache::set_not_null(Oid oid, const std::vector<std::string>& columns) {
    const auto it = relations_.find(oid);
    if (it == relations_.end()) {
        return;
    }
    for (auto& c : it->second->columns) {
        c.not_null = std::find(columns.begin(), columns.end(), c.name) != columns.end();
    }
}

}  // namespace pgcs::changeset
