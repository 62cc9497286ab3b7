// TypeRegistry: the built-in table checked against a real PostgreSQL 15 pg_type, the contract's
// type table row by row, and catalog registration of domains, enums, arrays and hstore.
#include <catch2/catch.hpp>

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/changeset/type_registry.hpp"

using pgcs::changeset::CatalogType;
using pgcs::changeset::Oid;
using pgcs::changeset::TypeInfo;
using pgcs::changeset::TypeRegistry;
using K = pgcs::changeset::ValueKind;

namespace {

// `SELECT oid, typname FROM pg_type` on PostgreSQL 15.20 (initdb, no extensions): every base,
// range and multirange type below OID 10000 and the array of each.
constexpr const char* kPg15Types = R"(
16 bool 17 bytea 18 char 19 name 20 int8 21 int2 22 int2vector 23 int4 24 regproc 25 text
26 oid 27 tid 28 xid 29 cid 30 oidvector 114 json 142 xml 143 _xml 194 pg_node_tree 199
_json 271 _xid8 600 point 601 lseg 602 path 603 box 604 polygon 628 line 629 _line 650 cidr
651 _cidr 700 float4 701 float8 718 circle 719 _circle 774 macaddr8 775 _macaddr8 790 money
791 _money 829 macaddr 869 inet 1000 _bool 1001 _bytea 1002 _char 1003 _name 1005 _int2
1006 _int2vector 1007 _int4 1008 _regproc 1009 _text 1010 _tid 1011 _xid 1012 _cid 1013
_oidvector 1014 _bpchar 1015 _varchar 1016 _int8 1017 _point 1018 _lseg 1019 _path 1020
_box 1021 _float4 1022 _float8 1027 _polygon 1028 _oid 1033 aclitem 1034 _aclitem 1040
_macaddr 1041 _inet 1042 bpchar 1043 varchar 1082 date 1083 time 1114 timestamp 1115
_timestamp 1182 _date 1183 _time 1184 timestamptz 1185 _timestamptz 1186 interval 1187
_interval 1231 _numeric 1266 timetz 1270 _timetz 1560 bit 1561 _bit 1562 varbit 1563
_varbit 1700 numeric 1790 refcursor 2201 _refcursor 2202 regprocedure 2203 regoper 2204
regoperator 2205 regclass 2206 regtype 2207 _regprocedure 2208 _regoper 2209 _regoperator
2210 _regclass 2211 _regtype 2949 _txid_snapshot 2950 uuid 2951 _uuid 2970 txid_snapshot
3220 pg_lsn 3221 _pg_lsn 3361 pg_ndistinct 3402 pg_dependencies 3614 tsvector 3615 tsquery
3642 gtsvector 3643 _tsvector 3644 _gtsvector 3645 _tsquery 3734 regconfig 3735 _regconfig
3769 regdictionary 3770 _regdictionary 3802 jsonb 3807 _jsonb 3904 int4range 3905
_int4range 3906 numrange 3907 _numrange 3908 tsrange 3909 _tsrange 3910 tstzrange 3911
_tstzrange 3912 daterange 3913 _daterange 3926 int8range 3927 _int8range 4072 jsonpath 4073
_jsonpath 4089 regnamespace 4090 _regnamespace 4096 regrole 4097 _regrole 4191 regcollation
4192 _regcollation 4451 int4multirange 4532 nummultirange 4533 tsmultirange 4534
tstzmultirange 4535 datemultirange 4536 int8multirange 4600 pg_brin_bloom_summary 4601
pg_brin_minmax_multi_summary 5017 pg_mcv_list 5038 pg_snapshot 5039 _pg_snapshot 5069 xid8
6150 _int4multirange 6151 _nummultirange 6152 _tsmultirange 6153 _tstzmultirange 6155
_datemultirange 6157 _int8multirange
)";

struct Pg15Type {
    Oid oid;
    std::string name;
};

std::vector<Pg15Type> pg15_types() {
    std::vector<Pg15Type> out;
    std::istringstream in(kPg15Types);
    Pg15Type t;
    while (in >> t.oid >> t.name) {
        out.push_back(t);
    }
    return out;
}

const TypeInfo& builtin(Oid oid) {
    const TypeInfo* type = TypeRegistry::builtin(oid);
    INFO("OID " << oid);
    REQUIRE(type != nullptr);
    return *type;
}

CatalogType catalog(Oid oid, std::string name, char typtype, Oid base, Oid element, char category,
                    char delimiter = ',') {
    CatalogType t;
    t.oid = oid;
    t.name = std::move(name);
    t.typtype = typtype;
    t.base_oid = base;
    t.element_oid = element;
    t.category = category;
    t.delimiter = delimiter;
    return t;
}

}  // namespace

TEST_CASE("type registry: the built-in table is PostgreSQL 15's pg_type") {
    const auto expected = pg15_types();
    REQUIRE(expected.size() == 158);
    for (const auto& t : expected) {
        INFO(t.oid << " " << t.name);
        CHECK(builtin(t.oid).name == t.name);
        CHECK(builtin(t.oid).oid == t.oid);
    }
    // Nothing else is built in.
    std::size_t count = 0;
    for (Oid oid = 0; oid < 20000; ++oid) {
        count += TypeRegistry::builtin(oid) != nullptr ? 1 : 0;
    }
    CHECK(count == expected.size());
}

TEST_CASE("type registry: arrays are the '_' types, each of its element") {
    for (const auto& t : pg15_types()) {
        INFO(t.name);
        const TypeInfo& type = builtin(t.oid);
        if (t.name[0] == '_') {
            REQUIRE(type.kind == K::Array);
            const TypeInfo& element = builtin(type.element_oid);
            CHECK(element.name == t.name.substr(1));
            CHECK(element.kind != K::Array);
            CHECK(type.delimiter == element.delimiter);
        } else {
            CHECK(type.kind != K::Array);
            CHECK(type.element_oid == 0);
        }
    }
}

TEST_CASE("type registry: OIDs and array elements named in the contract") {
    struct Row {
        Oid oid;
        const char* name;
        K kind;
        Oid element;
    };
    const Row rows[] = {
        {16, "bool", K::Bool, 0},
        {17, "bytea", K::Bytea, 0},
        {18, "char", K::String, 0},
        {19, "name", K::String, 0},
        {20, "int8", K::Integer, 0},
        {21, "int2", K::Integer, 0},
        {23, "int4", K::Integer, 0},
        {25, "text", K::String, 0},
        {26, "oid", K::Integer, 0},
        {114, "json", K::Json, 0},
        {142, "xml", K::String, 0},
        {600, "point", K::String, 0},
        {601, "lseg", K::String, 0},
        {602, "path", K::String, 0},
        {603, "box", K::String, 0},
        {604, "polygon", K::String, 0},
        {628, "line", K::String, 0},
        {718, "circle", K::String, 0},
        {700, "float4", K::Float, 0},
        {701, "float8", K::Float, 0},
        {790, "money", K::String, 0},
        {829, "macaddr", K::String, 0},
        {774, "macaddr8", K::String, 0},
        {869, "inet", K::String, 0},
        {650, "cidr", K::String, 0},
        {1042, "bpchar", K::String, 0},
        {1043, "varchar", K::String, 0},
        {1082, "date", K::Date, 0},
        {1083, "time", K::Time, 0},
        {1114, "timestamp", K::Timestamp, 0},
        {1184, "timestamptz", K::TimestampTz, 0},
        {1186, "interval", K::Interval, 0},
        {1266, "timetz", K::TimeTz, 0},
        {1560, "bit", K::String, 0},
        {1562, "varbit", K::String, 0},
        {1700, "numeric", K::Numeric, 0},
        {2950, "uuid", K::String, 0},
        {3802, "jsonb", K::Json, 0},
        {4072, "jsonpath", K::String, 0},
        {3614, "tsvector", K::String, 0},
        {3615, "tsquery", K::String, 0},
        {28, "xid", K::String, 0},
        {5069, "xid8", K::String, 0},
        {3220, "pg_lsn", K::String, 0},
        {3904, "int4range", K::String, 0},
        {3926, "int8range", K::String, 0},
        {3906, "numrange", K::String, 0},
        {3908, "tsrange", K::String, 0},
        {3910, "tstzrange", K::String, 0},
        {3912, "daterange", K::String, 0},
        {4451, "int4multirange", K::String, 0},
        {4536, "int8multirange", K::String, 0},
        {4532, "nummultirange", K::String, 0},
        {4533, "tsmultirange", K::String, 0},
        {4534, "tstzmultirange", K::String, 0},
        {4535, "datemultirange", K::String, 0},
        {22, "int2vector", K::String, 0},  // "1 2 3", not an array literal
        {30, "oidvector", K::String, 0},
        {1000, "_bool", K::Array, 16},
        {1001, "_bytea", K::Array, 17},
        {1005, "_int2", K::Array, 21},
        {1007, "_int4", K::Array, 23},
        {1009, "_text", K::Array, 25},
        {1016, "_int8", K::Array, 20},
        {1021, "_float4", K::Array, 700},
        {1022, "_float8", K::Array, 701},
        {1015, "_varchar", K::Array, 1043},
        {1014, "_bpchar", K::Array, 1042},
        {199, "_json", K::Array, 114},
        {3807, "_jsonb", K::Array, 3802},
        {2951, "_uuid", K::Array, 2950},
        {1182, "_date", K::Array, 1082},
        {1183, "_time", K::Array, 1083},
        {1115, "_timestamp", K::Array, 1114},
        {1185, "_timestamptz", K::Array, 1184},
        {1187, "_interval", K::Array, 1186},
        {1270, "_timetz", K::Array, 1266},
        {1231, "_numeric", K::Array, 1700},
        {1020, "_box", K::Array, 603},
        {1028, "_oid", K::Array, 26},
        {1006, "_int2vector", K::Array, 22},
        {3905, "_int4range", K::Array, 3904},
        {6150, "_int4multirange", K::Array, 4451},
        {271, "_xid8", K::Array, 5069},
    };
    for (const Row& row : rows) {
        INFO(row.name);
        const TypeInfo& type = builtin(row.oid);
        CHECK(type.name == row.name);
        CHECK(type.kind == row.kind);
        CHECK(type.element_oid == row.element);
    }
    CHECK(builtin(603).delimiter == ';');
    CHECK(builtin(1020).delimiter == ';');
    CHECK(builtin(1007).delimiter == ',');
}

TEST_CASE("type registry: unknown OIDs") {
    TypeRegistry registry;
    CHECK(TypeRegistry::builtin(0) == nullptr);
    CHECK(TypeRegistry::builtin(2249) == nullptr);  // record: a pseudo-type, never a column
    CHECK(TypeRegistry::builtin(9999) == nullptr);
    CHECK(TypeRegistry::builtin(10000) == nullptr);
    CHECK(TypeRegistry::builtin(16390) == nullptr);
    CHECK(TypeRegistry::builtin(0xffffffffu) == nullptr);
    CHECK(registry.find(16390) == nullptr);
    CHECK(registry.find(1007) == TypeRegistry::builtin(1007));
}

// Catalog rows as a PostgreSQL 15 server reports them after CREATE DOMAIN / TYPE / EXTENSION.
TEST_CASE("type registry: domains take their base type's kind") {
    TypeRegistry types;
    types.add(catalog(16623, "posint", 'd', 23, 0, 'N'));
    types.add(catalog(16622, "_posint", 'b', 0, 16623, 'A'));
    types.add(catalog(16634, "intarr", 'd', 1007, 0, 'A'));  // a domain over int4[]
    types.add(catalog(16633, "_intarr", 'b', 0, 16634, 'A'));
    types.add(catalog(16636, "boxd", 'd', 603, 0, 'G', ';'));
    types.add(catalog(16635, "_boxd", 'b', 0, 16636, 'A', ';'));
    types.add(catalog(16700, "posint2", 'd', 16623, 0, 'N'));  // a domain over a domain
    types.add(catalog(16701, "stamp", 'd', 1184, 0, 'D'));

    const TypeInfo* posint = types.find(16623);
    REQUIRE(posint != nullptr);
    CHECK(posint->name == "posint");
    CHECK(posint->kind == K::Integer);
    CHECK(types.find(16700)->kind == K::Integer);
    CHECK(types.find(16700)->name == "posint2");
    CHECK(types.find(16701)->kind == K::TimestampTz);

    const TypeInfo* posints = types.find(16622);
    REQUIRE(posints != nullptr);
    CHECK(posints->name == "_posint");
    CHECK(posints->kind == K::Array);
    CHECK(posints->element_oid == 16623);  // the domain itself, written as its base

    CHECK(types.find(16634)->kind == K::Array);
    CHECK(types.find(16634)->element_oid == 23);
    CHECK(types.find(16633)->kind == K::Array);
    CHECK(types.find(16633)->element_oid == 16634);

    CHECK(types.find(16636)->kind == K::String);
    CHECK(types.find(16636)->delimiter == ';');
    CHECK(types.find(16635)->delimiter == ';');
}

TEST_CASE("type registry: enums, hstore, citext, composites") {
    TypeRegistry types;
    types.add(catalog(16626, "mood", 'e', 0, 0, 'E'));
    types.add(catalog(16625, "_mood", 'b', 0, 16626, 'A'));
    types.add(catalog(16390, "hstore", 'b', 0, 0, 'U'));
    types.add(catalog(16395, "_hstore", 'b', 0, 16390, 'A'));
    types.add(catalog(16518, "citext", 'b', 0, 0, 'S'));
    types.add(catalog(16800, "address", 'c', 0, 0, 'C'));
    types.add(catalog(16801, "hstore", 'd', 16390, 0, 'U'));  // a domain named hstore: its base
    types.add(catalog(83, "pg_class", 'c', 0, 0, 'C'));       // a catalog's row type

    CHECK(types.find(16626)->kind == K::String);
    CHECK(types.find(16626)->name == "mood");
    CHECK(types.find(16625)->kind == K::Array);
    CHECK(types.find(16625)->element_oid == 16626);
    CHECK(types.find(16390)->kind == K::Hstore);
    CHECK(types.find(16395)->kind == K::Array);
    CHECK(types.find(16395)->element_oid == 16390);
    CHECK(types.find(16518)->kind == K::String);
    CHECK(types.find(16518)->name == "citext");
    CHECK(types.find(16800)->kind == K::String);
    CHECK(types.find(16801)->kind == K::Hstore);
    CHECK(types.find(83)->name == "pg_class");
    CHECK(types.find(83)->kind == K::String);
}

TEST_CASE("type registry: unknown base or element is refused") {
    TypeRegistry types;
    CHECK_THROWS_AS(types.add(catalog(16623, "posint", 'd', 16000, 0, 'N')), std::invalid_argument);
    CHECK_THROWS_AS(types.add(catalog(16622, "_thing", 'b', 0, 16000, 'A')), std::invalid_argument);
    CHECK_THROWS_AS(types.add(catalog(16624, "nobase", 'd', 0, 0, 'N')), std::invalid_argument);
    CHECK(types.find(16623) == nullptr);
    CHECK(types.find(16622) == nullptr);
}

TEST_CASE("type registry: redefinition keeps pointers valid, built-ins stay fixed") {
    TypeRegistry types;
    types.add(catalog(16626, "mood", 'e', 0, 0, 'E'));
    const TypeInfo* before = types.find(16626);
    for (Oid oid = 20000; oid < 21000; ++oid) {  // force rehashing
        types.add(catalog(oid, "t" + std::to_string(oid), 'e', 0, 0, 'E'));
    }
    types.add(catalog(16626, "feeling", 'd', 23, 0, 'N'));
    CHECK(types.find(16626) == before);
    CHECK(before->name == "feeling");
    CHECK(before->kind == K::Integer);

    types.add(catalog(23, "not_int4", 'e', 0, 0, 'E'));
    CHECK(types.find(23)->name == "int4");
    CHECK(types.find(23)->kind == K::Integer);
}
