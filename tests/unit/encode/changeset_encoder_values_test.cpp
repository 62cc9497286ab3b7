// The encoder's value rules of contract version 2, through whole events in text and binary mode:
// a json/jsonb JSON null is told from SQL NULL by the "json_null" field, and a float -0 is
// written -0.0 wherever a float appears.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <cmath>
#include <cstring>
#include <string>

#include "core/encode/changeset_encoder.hpp"

using namespace pgcs;

namespace {

constexpr changeset::Oid kInt8 = 20, kText = 25, kJson = 114, kFloat4 = 700, kFloat8 = 701,
                         kFloat8Array = 1022, kJsonb = 3802, kDocDomain = 90010;

struct Fixture {
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    changeset::Changeset cs;
    encode::ChangesetEncoder encoder{types};
    changeset::EventMeta meta{0, 1, 742, 0x16B3748, 0x16B3800, 3};

    // id int8 PRIMARY KEY, a jsonb, b json, c text, d doc (a domain over jsonb).
    const changeset::RelationInfo& define_json(char identity) {
        changeset::CatalogType doc;
        doc.oid = kDocDomain;
        doc.name = "doc";
        doc.typtype = 'd';
        doc.base_oid = kJsonb;
        types.add(doc);
        pgoutput::Relation r;
        r.oid = 7;
        r.schema = "public";
        r.name = "docs";
        r.replica_identity = identity;
        const bool full = identity == 'f';
        r.columns = {{true, "id", kInt8, -1},
                     {full, "a", kJsonb, -1},
                     {full, "b", kJson, -1},
                     {full, "c", kText, -1},
                     {full, "d", kDocDomain, -1}};
        return cache.define(r, {"id"}, types);
    }

    // id int8 PRIMARY KEY, f4 float4, f8 float8, arr float8[].
    const changeset::RelationInfo& define_floats() {
        pgoutput::Relation r;
        r.oid = 8;
        r.schema = "public";
        r.name = "floats";
        r.replica_identity = 'f';
        r.columns = {{true, "id", kInt8, -1},
                     {true, "f4", kFloat4, -1},
                     {true, "f8", kFloat8, -1},
                     {true, "arr", kFloat8Array, -1}};
        return cache.define(r, {"id"}, types);
    }

    std::string value() const { return std::string(encoder.value()); }
};

// The text between `"field":` and the next `,"<next>":`.
std::string field(const std::string& value, const std::string& name, const std::string& next) {
    const std::string open = "\"" + name + "\":";
    const auto from = value.find(open);
    const auto to = value.find(",\"" + next + "\":", from);
    REQUIRE(from != std::string::npos);
    REQUIRE(to != std::string::npos);
    return value.substr(from + open.size(), to - from - open.size());
}

// Binary (send) forms, as pgoutput carries them with `binary 'true'`.
struct Bytes {
    std::string b;
    Bytes& be(std::uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i) {
            b += static_cast<char>((v >> (8 * i)) & 0xff);
        }
        return *this;
    }
    Bytes& raw(std::string_view s) {
        b += s;
        return *this;
    }
};

std::uint64_t bits(double d) {
    std::uint64_t u = 0;
    std::memcpy(&u, &d, 8);
    return u;
}

std::uint32_t bits(float f) {
    std::uint32_t u = 0;
    std::memcpy(&u, &f, 4);
    return u;
}

std::string jsonb_binary(std::string_view text) {
    return Bytes().be(1, 1).raw(text).b;  // jsonb_send: version 1, then the text
}

// float8[] of one dimension, lower bound 1; NaN stands for a NULL element.
std::string float8_array_binary(std::initializer_list<double> values) {
    Bytes a;
    a.be(1, 4).be(1, 4).be(kFloat8, 4).be(values.size(), 4).be(1, 4);
    for (double v : values) {
        if (std::isnan(v)) {
            a.be(0xffffffff, 4);
        } else {
            a.be(8, 4).be(bits(v), 8);
        }
    }
    return a.b;
}

}  // namespace

TEST_CASE("json null: an added event lists its JSON-null columns in column order") {
    Fixture f;
    const auto& rel = f.define_json('d');
    // a: JSON null, b: SQL NULL, c: the text "null", d: JSON null with json's white space kept.
    pgoutput::Insert ins{
        std::nullopt, 7, {{'t', "1"}, {'t', "null"}, {'n', ""}, {'t', "null"}, {'t', "null"}}};
    changeset::build_insert(rel, ins, f.cs);
    f.encoder.encode(f.cs, f.meta);
    const std::string v = f.value();
    CHECK(field(v, "after", "changed") == R"({"id":1,"a":null,"b":null,"c":"null","d":null})");
    CHECK(field(v, "json_null", "commit_ts") == R"({"before":[],"after":["a","d"]})");
    // The field comes after "types"; the fields before it are as in version 1.
    CHECK(v.find(R"("types":{"id":"int8","a":"jsonb","b":"json","c":"text","d":"doc"},)"
                 R"("json_null":)") != std::string::npos);

    pgoutput::Insert json_type{
        std::nullopt, 7, {{'t', "2"}, {'n', ""}, {'t', " \n null\t"}, {'n', ""}, {'n', ""}}};
    changeset::build_insert(rel, json_type, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(field(f.value(), "json_null", "commit_ts") == R"({"before":[],"after":["b"]})");
}

TEST_CASE("json null: no field at all when no column holds JSON null") {
    Fixture f;
    const auto& rel = f.define_json('f');
    // SQL NULLs, JSON values containing null, the text "null": none is a JSON null value.
    pgoutput::Insert ins{
        std::nullopt,
        7,
        {{'t', "1"}, {'n', ""}, {'t', "[null]"}, {'t', "null"}, {'t', "{\"k\": null}"}}};
    changeset::build_insert(rel, ins, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(f.value().find("json_null") == std::string::npos);

    // The bookkeeping is per event: an event with JSON null, then one without.
    pgoutput::Insert with_null{
        std::nullopt, 7, {{'t', "2"}, {'t', "null"}, {'n', ""}, {'n', ""}, {'n', ""}}};
    changeset::build_insert(rel, with_null, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(f.value().find("json_null") != std::string::npos);
    changeset::build_insert(rel, ins, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(f.value().find("json_null") == std::string::npos);

    changeset::build_truncate(rel, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(f.value().find("json_null") == std::string::npos);
}

TEST_CASE("json null: before and after of a modified event under FULL, each in column order") {
    Fixture f;
    const auto& rel = f.define_json('f');
    // Old row: a JSON null, b SQL NULL, d JSON null. New row: a SQL NULL, b JSON null, d JSON
    // null.
    pgoutput::Update upd{std::nullopt,
                         7,
                         'O',
                         {{'t', "1"}, {'t', "null"}, {'n', ""}, {'t', "x"}, {'t', "null"}},
                         {{'t', "1"}, {'n', ""}, {'t', "null"}, {'t', "x"}, {'t', "null"}}};
    changeset::build_update(rel, upd, f.cs);
    f.encoder.encode(f.cs, f.meta);
    const std::string v = f.value();
    CHECK(field(v, "before", "after") == R"({"id":1,"a":null,"b":null,"c":"x","d":null})");
    CHECK(field(v, "after", "changed") == R"({"id":1,"a":null,"b":null,"c":"x","d":null})");
    // Both images look alike; json_null and changed tell what happened.
    CHECK(field(v, "changed", "unchanged_toast") == R"(["a","b"])");
    CHECK(field(v, "json_null", "commit_ts") == R"({"before":["a","d"],"after":["b","d"]})");

    // A deleted event: only before holds the row.
    pgoutput::Delete del{
        std::nullopt, 7, 'O', {{'t', "1"}, {'n', ""}, {'n', ""}, {'t', "x"}, {'t', "null"}}};
    changeset::build_delete(rel, del, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(field(f.value(), "json_null", "commit_ts") == R"({"before":["d"],"after":[]})");
}

TEST_CASE("json null: binary mode gives the same event as text mode") {
    Fixture f;
    const auto& rel = f.define_json('f');
    pgoutput::Insert text{
        std::nullopt, 7, {{'t', "1"}, {'t', "null"}, {'t', "null"}, {'n', ""}, {'t', "{}"}}};
    changeset::build_insert(rel, text, f.cs);
    f.encoder.encode(f.cs, f.meta);
    const std::string from_text = f.value();
    CHECK(field(from_text, "json_null", "commit_ts") == R"({"before":[],"after":["a","b"]})");

    const std::string id = Bytes().be(1, 8).b;
    const std::string a = jsonb_binary("null");
    const std::string d = jsonb_binary("{}");
    pgoutput::Insert binary{
        std::nullopt, 7, {{'b', id}, {'b', a}, {'b', "null"}, {'n', ""}, {'b', d}}};
    changeset::build_insert(rel, binary, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(f.value() == from_text);
}

TEST_CASE("json null: a read event (snapshot row) follows the same rule") {
    Fixture f;
    const auto& rel = f.define_json('d');
    f.cs.clear();
    f.cs.op = changeset::Op::Read;
    f.cs.relation = &rel;
    f.cs.has_after = true;
    using S = changeset::Value::State;
    f.cs.after = {{S::Text, "1"}, {S::Null, {}}, {S::Text, "null"}, {S::Null, {}}, {S::Null, {}}};
    f.encoder.encode_without_meta(f.cs);
    std::string v = f.value();
    CHECK(v.ends_with(R"("json_null":{"before":[],"after":["b"]})"));
    encode::ChangesetEncoder::append_event_meta(v, f.meta);
    rapidjson::Document d;
    d.Parse(v.data(), v.size());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(d["json_null"]["after"][0] == "b");
}

TEST_CASE("json null: the key is not a place where JSON null is recorded") {
    Fixture f;
    pgoutput::Relation r;
    r.oid = 9;
    r.schema = "public";
    r.name = "bykey";
    r.replica_identity = 'd';
    r.columns = {{true, "k", kJsonb, -1}, {false, "v", kText, -1}};
    const auto& rel = f.cache.define(r, {"k"}, f.types);
    pgoutput::Insert ins{std::nullopt, 9, {{'t', "null"}, {'t', "x"}}};
    changeset::build_insert(rel, ins, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(f.encoder.key() == R"({"k":null})");
    // Listed once, for after, which the key is read from.
    CHECK(field(f.value(), "json_null", "commit_ts") == R"({"before":[],"after":["k"]})");
}

TEST_CASE("float -0 is -0.0 in before, after and arrays, in text and binary mode") {
    Fixture f;
    const auto& rel = f.define_floats();
    pgoutput::Update upd{std::nullopt,
                         8,
                         'O',
                         {{'t', "1"}, {'t', "-0"}, {'t', "0"}, {'t', "{-0,0,1,-1,1e+20,NULL}"}},
                         {{'t', "1"}, {'t', "0"}, {'t', "-0"}, {'t', "{1e+20,-0}"}}};
    changeset::build_update(rel, upd, f.cs);
    f.encoder.encode(f.cs, f.meta);
    const std::string from_text = f.value();
    CHECK(field(from_text, "before", "after") ==
          R"({"id":1,"f4":-0.0,"f8":0,"arr":[-0.0,0,1,-1,1e+20,null]})");
    CHECK(field(from_text, "after", "changed") ==
          R"({"id":1,"f4":0,"f8":-0.0,"arr":[1e+20,-0.0]})");

    const std::string id = Bytes().be(1, 8).b;
    const std::string f4_neg = Bytes().be(bits(-0.0F), 4).b;
    const std::string f4_pos = Bytes().be(bits(0.0F), 4).b;
    const std::string f8_neg = Bytes().be(bits(-0.0), 8).b;
    const std::string f8_pos = Bytes().be(bits(0.0), 8).b;
    const std::string old_arr = float8_array_binary({-0.0, 0.0, 1.0, -1.0, 1e20, NAN});
    const std::string new_arr = float8_array_binary({1e20, -0.0});
    pgoutput::Update binary{std::nullopt,
                            8,
                            'O',
                            {{'b', id}, {'b', f4_neg}, {'b', f8_pos}, {'b', old_arr}},
                            {{'b', id}, {'b', f4_pos}, {'b', f8_neg}, {'b', new_arr}}};
    changeset::build_update(rel, binary, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(f.value() == from_text);

    // A JSON reader sees a double with its sign bit set; 0 stays an integer 0.
    rapidjson::Document d;
    d.Parse(from_text.data(), from_text.size());
    REQUIRE_FALSE(d.HasParseError());
    REQUIRE(d["after"]["f8"].IsDouble());
    CHECK(std::signbit(d["after"]["f8"].GetDouble()));
    CHECK(d["after"]["f8"].GetDouble() == 0.0);
    CHECK(std::signbit(d["before"]["f4"].GetDouble()));
    CHECK(std::signbit(d["before"]["arr"][0].GetDouble()));
    CHECK(d["after"]["f4"].IsInt());
    CHECK_FALSE(std::signbit(d["after"]["f4"].GetDouble()));
}
