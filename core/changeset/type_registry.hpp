// PostgreSQL type OID -> the name consumers see in `types` and the JSON form of its values.
// Built-in types come from a static table; others (domains, enums, arrays of them,
// extension types) are added by the source after it looks them up in the catalog.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace pgcs::changeset {

using Oid = std::uint32_t;

// How a type's values are written to JSON (see the type table in the changeset contract).
enum class ValueKind {
    Bool,         // true / false
    Integer,      // int2, int4, int8, oid: JSON number, exact digits
    Float,        // float4, float8: number; NaN/Infinity/-Infinity as strings
    Numeric,      // numeric: string with every digit
    String,       // text, varchar, bpchar, name, citext, enum, uuid, and "anything else"
    Bytea,        // base64 string
    Json,         // json, jsonb: the JSON value itself
    Date,         // "2026-11-23", "infinity", "-infinity"
    Time,         // "13:45:00.5"
    TimeTz,       // "13:45:00.5+02:00"
    Timestamp,    // "2026-11-23T13:45:00.123456" (fraction as PostgreSQL prints it)
    TimestampTz,  // "2026-11-23T11:45:00.123456Z" (always UTC, six fraction digits)
    Interval,     // ISO 8601 duration
    Array,        // JSON array of element_oid values, nested per dimension
    Hstore,       // JSON object
};

struct TypeInfo {
    Oid oid = 0;
    std::string name;  // pg_type.typname: "int8", "_text", a domain or enum by its own name
    ValueKind kind = ValueKind::String;
    Oid element_oid = 0;   // for Array: the element type (a domain element resolved to itself)
    char delimiter = ',';  // array element delimiter (';' for box)
    // The built-in type whose send function wrote this type's binary values: a domain's base,
    // text for enums and citext; 0 = the type itself when built in, else unknown.
    Oid send_oid = 0;
    // pg_type.typtype of a registered type ('b' for built-ins) and, for a domain, the built-in
    // (or registered) type at the bottom of its chain: what the Debezium format maps.
    char typtype = 'b';
    Oid base_oid = 0;
    std::string enum_labels = {};  // an enum's labels, comma-separated (Debezium's "allowed")
};

// Catalog facts about a type, as the source reads them from pg_type, used to register a
// type that is not built in.
struct CatalogType {
    Oid oid = 0;
    std::string name;      // typname
    char typtype = 'b';    // b base, d domain, e enum, c composite, r range, m multirange, p pseudo
    Oid base_oid = 0;      // typbasetype (domains)
    Oid element_oid = 0;   // typelem when typcategory = 'A'
    char category = 'U';   // typcategory
    char delimiter = ',';  // typdelim
    std::string enum_labels = {};  // an enum's labels in their order, comma-separated
};

class TypeRegistry {
  public:
    TypeRegistry();

    // The type, or nullptr when it is neither built in nor registered.
    const TypeInfo* find(Oid oid) const;

    // Registers (or replaces) a type that is not built in. For a domain, the kind (and array
    // element) of its base type is used, so the base must be known (built in or registered
    // first); an enum is a String; an array takes its element from `element_oid`; an
    // extension type named "hstore" is an Hstore; everything else is a String.
    // Throws std::invalid_argument if a domain's base or an array's element is unknown.
    void add(const CatalogType& type);

    // Built-in types only (OIDs below 10000), independent of any registry.
    static const TypeInfo* builtin(Oid oid);

    // Bumped by every add(): what was derived from the registered types may be stale.
    std::uint64_t generation() const { return generation_; }

  private:
    std::unordered_map<Oid, TypeInfo> added_;
    std::uint64_t generation_ = 0;
};

}  // namespace pgcs::changeset
