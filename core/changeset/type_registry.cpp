// The built-in PostgreSQL 15 types (a static table taken from pg_type) plus the domains, enums,
// arrays and extension types the source looks up in the catalog: OID -> name and JSON form.
#include "core/changeset/type_registry.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace pgcs::changeset {
namespace {

using K = ValueKind;

// Fields in the order of the catalog query below, which the table reads best in; the padding
// costs a few kB once. NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding)
struct BuiltinType {
    Oid oid;
    const char* name;
    ValueKind kind;
    Oid element_oid;  // arrays only
    char delimiter;   // typdelim; an array carries its element's (array_out uses that one)
};

// Every base, range and multirange type of PostgreSQL 15 (pg_type rows with oid < 10000 and
// typtype b, r or m) and the array type of each, in OID order, as a PostgreSQL 15.20 server
// reports them:
//   SELECT oid, typname, typtype, typcategory, typelem, typdelim FROM pg_type;
// Arrays are the category 'A' rows, except int2vector and oidvector: their text form is
// space-separated ("1 2 3"), not braces, so they are strings. Pseudo-types and the row types of
// system catalogs are left out; the source registers a composite like any unknown type.
constexpr BuiltinType kBuiltins[] = {
    {16, "bool", K::Bool, 0, ','},
    {17, "bytea", K::Bytea, 0, ','},
    {18, "char", K::String, 0, ','},
    {19, "name", K::String, 0, ','},
    {20, "int8", K::Integer, 0, ','},
    {21, "int2", K::Integer, 0, ','},
    {22, "int2vector", K::String, 0, ','},
    {23, "int4", K::Integer, 0, ','},
    {24, "regproc", K::String, 0, ','},
    {25, "text", K::String, 0, ','},
    {26, "oid", K::Integer, 0, ','},
    {27, "tid", K::String, 0, ','},
    {28, "xid", K::String, 0, ','},
    {29, "cid", K::String, 0, ','},
    {30, "oidvector", K::String, 0, ','},
    {114, "json", K::Json, 0, ','},
    {142, "xml", K::String, 0, ','},
    {143, "_xml", K::Array, 142, ','},
    {194, "pg_node_tree", K::String, 0, ','},
    {199, "_json", K::Array, 114, ','},
    {271, "_xid8", K::Array, 5069, ','},
    {600, "point", K::String, 0, ','},
    {601, "lseg", K::String, 0, ','},
    {602, "path", K::String, 0, ','},
    {603, "box", K::String, 0, ';'},
    {604, "polygon", K::String, 0, ','},
    {628, "line", K::String, 0, ','},
    {629, "_line", K::Array, 628, ','},
    {650, "cidr", K::String, 0, ','},
    {651, "_cidr", K::Array, 650, ','},
    {700, "float4", K::Float, 0, ','},
    {701, "float8", K::Float, 0, ','},
    {718, "circle", K::String, 0, ','},
    {719, "_circle", K::Array, 718, ','},
    {774, "macaddr8", K::String, 0, ','},
    {775, "_macaddr8", K::Array, 774, ','},
    {790, "money", K::String, 0, ','},
    {791, "_money", K::Array, 790, ','},
    {829, "macaddr", K::String, 0, ','},
    {869, "inet", K::String, 0, ','},
    {1000, "_bool", K::Array, 16, ','},
    {1001, "_bytea", K::Array, 17, ','},
    {1002, "_char", K::Array, 18, ','},
    {1003, "_name", K::Array, 19, ','},
    {1005, "_int2", K::Array, 21, ','},
    {1006, "_int2vector", K::Array, 22, ','},
    {1007, "_int4", K::Array, 23, ','},
    {1008, "_regproc", K::Array, 24, ','},
    {1009, "_text", K::Array, 25, ','},
    {1010, "_tid", K::Array, 27, ','},
    {1011, "_xid", K::Array, 28, ','},
    {1012, "_cid", K::Array, 29, ','},
    {1013, "_oidvector", K::Array, 30, ','},
    {1014, "_bpchar", K::Array, 1042, ','},
    {1015, "_varchar", K::Array, 1043, ','},
    {1016, "_int8", K::Array, 20, ','},
    {1017, "_point", K::Array, 600, ','},
    {1018, "_lseg", K::Array, 601, ','},
    {1019, "_path", K::Array, 602, ','},
    {1020, "_box", K::Array, 603, ';'},
    {1021, "_float4", K::Array, 700, ','},
    {1022, "_float8", K::Array, 701, ','},
    {1027, "_polygon", K::Array, 604, ','},
    {1028, "_oid", K::Array, 26, ','},
    {1033, "aclitem", K::String, 0, ','},
    {1034, "_aclitem", K::Array, 1033, ','},
    {1040, "_macaddr", K::Array, 829, ','},
    {1041, "_inet", K::Array, 869, ','},
    {1042, "bpchar", K::String, 0, ','},
    {1043, "varchar", K::String, 0, ','},
    {1082, "date", K::Date, 0, ','},
    {1083, "time", K::Time, 0, ','},
    {1114, "timestamp", K::Timestamp, 0, ','},
    {1115, "_timestamp", K::Array, 1114, ','},
    {1182, "_date", K::Array, 1082, ','},
    {1183, "_time", K::Array, 1083, ','},
    {1184, "timestamptz", K::TimestampTz, 0, ','},
    {1185, "_timestamptz", K::Array, 1184, ','},
    {1186, "interval", K::Interval, 0, ','},
    {1187, "_interval", K::Array, 1186, ','},
    {1231, "_numeric", K::Array, 1700, ','},
    {1266, "timetz", K::TimeTz, 0, ','},
    {1270, "_timetz", K::Array, 1266, ','},
    {1560, "bit", K::String, 0, ','},
    {1561, "_bit", K::Array, 1560, ','},
    {1562, "varbit", K::String, 0, ','},
    {1563, "_varbit", K::Array, 1562, ','},
    {1700, "numeric", K::Numeric, 0, ','},
    {1790, "refcursor", K::String, 0, ','},
    {2201, "_refcursor", K::Array, 1790, ','},
    {2202, "regprocedure", K::String, 0, ','},
    {2203, "regoper", K::String, 0, ','},
    {2204, "regoperator", K::String, 0, ','},
    {2205, "regclass", K::String, 0, ','},
    {2206, "regtype", K::String, 0, ','},
    {2207, "_regprocedure", K::Array, 2202, ','},
    {2208, "_regoper", K::Array, 2203, ','},
    {2209, "_regoperator", K::Array, 2204, ','},
    {2210, "_regclass", K::Array, 2205, ','},
    {2211, "_regtype", K::Array, 2206, ','},
    {2949, "_txid_snapshot", K::Array, 2970, ','},
    {2950, "uuid", K::String, 0, ','},
    {2951, "_uuid", K::Array, 2950, ','},
    {2970, "txid_snapshot", K::String, 0, ','},
    {3220, "pg_lsn", K::String, 0, ','},
    {3221, "_pg_lsn", K::Array, 3220, ','},
    {3361, "pg_ndistinct", K::String, 0, ','},
    {3402, "pg_dependencies", K::String, 0, ','},
    {3614, "tsvector", K::String, 0, ','},
    {3615, "tsquery", K::String, 0, ','},
    {3642, "gtsvector", K::String, 0, ','},
    {3643, "_tsvector", K::Array, 3614, ','},
    {3644, "_gtsvector", K::Array, 3642, ','},
    {3645, "_tsquery", K::Array, 3615, ','},
    {3734, "regconfig", K::String, 0, ','},
    {3735, "_regconfig", K::Array, 3734, ','},
    {3769, "regdictionary", K::String, 0, ','},
    {3770, "_regdictionary", K::Array, 3769, ','},
    {3802, "jsonb", K::Json, 0, ','},
    {3807, "_jsonb", K::Array, 3802, ','},
    {3904, "int4range", K::String, 0, ','},
    {3905, "_int4range", K::Array, 3904, ','},
    {3906, "numrange", K::String, 0, ','},
    {3907, "_numrange", K::Array, 3906, ','},
    {3908, "tsrange", K::String, 0, ','},
    {3909, "_tsrange", K::Array, 3908, ','},
    {3910, "tstzrange", K::String, 0, ','},
    {3911, "_tstzrange", K::Array, 3910, ','},
    {3912, "daterange", K::String, 0, ','},
    {3913, "_daterange", K::Array, 3912, ','},
    {3926, "int8range", K::String, 0, ','},
    {3927, "_int8range", K::Array, 3926, ','},
    {4072, "jsonpath", K::String, 0, ','},
    {4073, "_jsonpath", K::Array, 4072, ','},
    {4089, "regnamespace", K::String, 0, ','},
    {4090, "_regnamespace", K::Array, 4089, ','},
    {4096, "regrole", K::String, 0, ','},
    {4097, "_regrole", K::Array, 4096, ','},
    {4191, "regcollation", K::String, 0, ','},
    {4192, "_regcollation", K::Array, 4191, ','},
    {4451, "int4multirange", K::String, 0, ','},
    {4532, "nummultirange", K::String, 0, ','},
    {4533, "tsmultirange", K::String, 0, ','},
    {4534, "tstzmultirange", K::String, 0, ','},
    {4535, "datemultirange", K::String, 0, ','},
    {4536, "int8multirange", K::String, 0, ','},
    {4600, "pg_brin_bloom_summary", K::String, 0, ','},
    {4601, "pg_brin_minmax_multi_summary", K::String, 0, ','},
    {5017, "pg_mcv_list", K::String, 0, ','},
    {5038, "pg_snapshot", K::String, 0, ','},
    {5039, "_pg_snapshot", K::Array, 5038, ','},
    {5069, "xid8", K::String, 0, ','},
    {6150, "_int4multirange", K::Array, 4451, ','},
    {6151, "_nummultirange", K::Array, 4532, ','},
    {6152, "_tsmultirange", K::Array, 4533, ','},
    {6153, "_tstzmultirange", K::Array, 4534, ','},
    {6155, "_datemultirange", K::Array, 4535, ','},
    {6157, "_int8multirange", K::Array, 4536, ','},
};

constexpr std::size_t kBuiltinCount = std::size(kBuiltins);
constexpr Oid kBuiltinOidLimit = 10000;  // the header's promise: built-ins are below this
constexpr std::uint8_t kNoEntry = 0xff;
static_assert(kBuiltinCount < kNoEntry, "the OID index holds 8-bit positions");

constexpr bool builtins_are_well_formed() {
    for (std::size_t i = 0; i < kBuiltinCount; ++i) {
        const BuiltinType& t = kBuiltins[i];
        if (t.oid >= kBuiltinOidLimit || (i > 0 && kBuiltins[i - 1].oid >= t.oid)) {
            return false;  // out of range, unsorted or duplicated
        }
        if ((t.kind == K::Array) != (t.element_oid != 0)) {
            return false;
        }
        if (t.kind == K::Array) {
            bool element_found = false;
            for (const BuiltinType& e : kBuiltins) {
                if (e.oid == t.element_oid) {
                    element_found = e.kind != K::Array && e.delimiter == t.delimiter;
                }
            }
            if (!element_found) {
                return false;
            }
        }
    }
    return true;
}
static_assert(builtins_are_well_formed(),
              "built-in types: sorted unique OIDs below 10000, arrays of known elements");

// OID -> position in kBuiltins, so that find() on a built-in type is one load.
constexpr std::array<std::uint8_t, kBuiltinOidLimit> make_index() {
    std::array<std::uint8_t, kBuiltinOidLimit> index{};
    for (auto& slot : index) {
        slot = kNoEntry;
    }
    for (std::size_t i = 0; i < kBuiltinCount; ++i) {
        index[kBuiltins[i].oid] = static_cast<std::uint8_t>(i);
    }
    return index;
}
constexpr std::array<std::uint8_t, kBuiltinOidLimit> kIndex = make_index();

const std::array<TypeInfo, kBuiltinCount>& builtin_infos() {
    static const std::array<TypeInfo, kBuiltinCount> infos = [] {
        std::array<TypeInfo, kBuiltinCount> out;
        for (std::size_t i = 0; i < kBuiltinCount; ++i) {
            const BuiltinType& t = kBuiltins[i];
            out[i] = TypeInfo{t.oid, t.name, t.kind, t.element_oid, t.delimiter};
        }
        return out;
    }();
    return infos;
}

}  // namespace

TypeRegistry::TypeRegistry() = default;

const TypeInfo* TypeRegistry::builtin(Oid oid) {
    if (oid >= kBuiltinOidLimit || kIndex[oid] == kNoEntry) {
        return nullptr;
    }
    return &builtin_infos()[kIndex[oid]];
}

const TypeInfo* TypeRegistry::find(Oid oid) const {
    if (const TypeInfo* type = builtin(oid)) {
        return type;
    }
    const auto it = added_.find(oid);
    return it == added_.end() ? nullptr : &it->second;
}

void TypeRegistry::add(const CatalogType& type) {
    if (builtin(type.oid) != nullptr) {
        return;  // the static table is authoritative for built-in OIDs
    }
    TypeInfo info;
    info.oid = type.oid;
    info.name = type.name;
    info.delimiter = type.delimiter;
    info.typtype = type.typtype;
    info.enum_labels = type.enum_labels;
    if (type.typtype == 'd') {
        // A domain is written as its base type; DefineDomain copies the base's typdelim too.
        const TypeInfo* base = find(type.base_oid);
        if (base == nullptr) {
            throw std::invalid_argument("domain " + type.name + ": base type OID " +
                                        std::to_string(type.base_oid) + " is not registered");
        }
        info.kind = base->kind;
        info.element_oid = base->element_oid;
        info.delimiter = base->delimiter;
        info.base_oid = base->base_oid != 0 ? base->base_oid : base->oid;
        info.send_oid =
            base->send_oid != 0 ? base->send_oid : (builtin(base->oid) != nullptr ? base->oid : 0);
    } else if (type.category == 'A' && type.element_oid != 0) {
        const TypeInfo* element = find(type.element_oid);
        if (element == nullptr) {
            throw std::invalid_argument("array type " + type.name + ": element type OID " +
                                        std::to_string(type.element_oid) + " is not registered");
        }
        info.kind = ValueKind::Array;
        info.element_oid = type.element_oid;
        info.delimiter = element->delimiter;  // array_out splits on the element's typdelim
    } else if (type.typtype == 'b' && type.name == "hstore") {
        info.kind = ValueKind::Hstore;
    } else if (type.typtype == 'e' || (type.typtype == 'b' && type.name == "citext")) {
        info.kind = ValueKind::String;
        info.send_oid = 25;  // enum_send and citextsend send the text itself
    } else {
        info.kind = ValueKind::String;  // enums, and everything else as its text form
    }
    // Assigning into the existing node keeps every TypeInfo* handed out so far valid (the
    // relation cache holds them).
    added_[type.oid] = std::move(info);
    ++generation_;
}

}  // namespace pgcs::changeset
