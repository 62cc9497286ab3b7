// Text that is not valid UTF-8 (an SQL_ASCII database) never stops the encoder: the column's
// value is the base64 of its raw bytes and the event's "not_utf8" field names it, in text and
// binary mode, in the key too; a message's prefix and content become base64.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <string>

#include "core/encode/changeset_encoder.hpp"
#include "core/encode/value_writer.hpp"

using namespace pgcs;

namespace {

constexpr changeset::Oid kInt8 = 20, kName = 19, kText = 25, kJson = 114, kBpchar = 1042,
                         kVarchar = 1043, kTextArray = 1009, kJsonb = 3802, kMood = 90020;

struct Fixture {
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    changeset::Changeset cs;
    encode::ChangesetEncoder encoder{types};
    changeset::EventMeta meta{0, 1, 742, 0x16B3748, 0x16B3800, 3};

    // k text PRIMARY KEY, n name, v varchar, b bpchar, m mood (an enum), j jsonb, a text[],
    // i int8, under replica identity FULL.
    const changeset::RelationInfo& define() {
        changeset::CatalogType mood;
        mood.oid = kMood;
        mood.name = "mood";
        mood.typtype = 'e';
        mood.category = 'E';
        types.add(mood);
        pgoutput::Relation r;
        r.oid = 7;
        r.schema = "public";
        r.name = "latin";
        r.replica_identity = 'f';
        r.columns = {{true, "k", kText, -1},      {true, "n", kName, -1}, {true, "v", kVarchar, -1},
                     {true, "b", kBpchar, -1},    {true, "m", kMood, -1}, {true, "j", kJsonb, -1},
                     {true, "a", kTextArray, -1}, {true, "i", kInt8, -1}};
        return cache.define(r, {"k"}, types);
    }

    rapidjson::Document parsed() const {
        rapidjson::Document d;
        d.Parse(encoder.value().data(), encoder.value().size());
        REQUIRE_FALSE(d.HasParseError());
        return d;
    }
};

std::string list(const rapidjson::Value& v) {
    std::string out;
    for (const auto& e : v.GetArray()) {
        out += std::string(e.GetString()) + ",";
    }
    return out;
}

}  // namespace

TEST_CASE("not utf8: each text-like column with invalid bytes is base64 and named") {
    Fixture f;
    const auto& rel = f.define();
    // "caf\xc3": an 'é' cut in half, as an SQL_ASCII database stores it.
    pgoutput::Insert ins{std::nullopt,
                         7,
                         {{'t', "caf\xc3"},
                          {'t', "ok"},
                          {'t', "\xff"},
                          {'t', "ok  "},
                          {'t', "h\xe9las"},
                          {'t', "{\"a\": \"\xc3\"}"},
                          {'t', "{x,\"\xc3\"}"},
                          {'t', "5"}}};
    changeset::build_insert(rel, ins, f.cs);
    REQUIRE_NOTHROW(f.encoder.encode(f.cs, f.meta));
    const auto d = f.parsed();
    CHECK(std::string(d["after"]["k"].GetString()) == "Y2Fmww==");
    CHECK(std::string(d["after"]["n"].GetString()) == "ok");
    CHECK(std::string(d["after"]["v"].GetString()) == "/w==");
    CHECK(std::string(d["after"]["b"].GetString()) == "ok  ");
    CHECK(std::string(d["after"]["m"].GetString()) == "aOlsYXM=");
    CHECK(std::string(d["after"]["j"].GetString()) == "eyJhIjogIsMifQ==");
    // An array with one bad element: the whole column is the base64 of its text form.
    CHECK(std::string(d["after"]["a"].GetString()) == "e3gsIsMifQ==");
    CHECK(d["after"]["i"].GetInt() == 5);
    CHECK(list(d["not_utf8"]["before"]).empty());
    CHECK(list(d["not_utf8"]["after"]) == "k,v,m,j,a,");
    // The key follows the same rule (it is JSON too); the value's not_utf8 names its column.
    CHECK(f.encoder.key() == R"({"k":"Y2Fmww=="})");
    CHECK(std::string(d["key"]["k"].GetString()) == "Y2Fmww==");
    // Written after types (and json_null), before commit_ts.
    const std::string v(f.encoder.value());
    CHECK(v.find(R"("not_utf8":{"before":[],"after":["k","v","m","j","a"]},"commit_ts")") !=
          std::string::npos);
}

TEST_CASE("not utf8: no field at all when every text is UTF-8, and the next event is clean") {
    Fixture f;
    const auto& rel = f.define();
    pgoutput::Insert bad{std::nullopt,
                         7,
                         {{'t', "\xc3"},
                          {'n', ""},
                          {'n', ""},
                          {'n', ""},
                          {'n', ""},
                          {'n', ""},
                          {'n', ""},
                          {'n', ""}}};
    changeset::build_insert(rel, bad, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(f.encoder.value().find("not_utf8") != std::string::npos);
    pgoutput::Insert good{std::nullopt,
                          7,
                          {{'t', "caf\xc3\xa9"},
                           {'t', "n"},
                           {'n', ""},
                           {'n', ""},
                           {'n', ""},
                           {'t', "{}"},
                           {'t', "{x}"},
                           {'n', ""}}};
    changeset::build_insert(rel, good, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(f.encoder.value().find("not_utf8") == std::string::npos);
    CHECK(f.encoder.key() == "{\"k\":\"caf\xc3\xa9\"}");
}

TEST_CASE("not utf8: before and after of a modified event each list their own columns") {
    Fixture f;
    const auto& rel = f.define();
    auto row = [](std::string_view k, std::string_view v) {
        return std::vector<pgoutput::TupleValue>{{'t', k},  {'n', ""}, {'t', v},  {'n', ""},
                                                 {'n', ""}, {'n', ""}, {'n', ""}, {'n', ""}};
    };
    pgoutput::Update upd{std::nullopt, 7, 'O', row("a", "\xc3"), row("a", "fixed")};
    changeset::build_update(rel, upd, f.cs);
    f.encoder.encode(f.cs, f.meta);
    const auto d = f.parsed();
    CHECK(list(d["not_utf8"]["before"]) == "v,");
    CHECK(list(d["not_utf8"]["after"]).empty());
    CHECK(std::string(d["before"]["v"].GetString()) == "ww==");
    CHECK(std::string(d["after"]["v"].GetString()) == "fixed");
}

TEST_CASE("not utf8: binary mode gives the same event as text mode") {
    Fixture f;
    const auto& rel = f.define();
    pgoutput::Insert text{std::nullopt,
                          7,
                          {{'t', "caf\xc3"},
                           {'n', ""},
                           {'t', "\xff"},
                           {'n', ""},
                           {'n', ""},
                           {'t', "\"\xc3\""},
                           {'n', ""},
                           {'n', ""}}};
    changeset::build_insert(rel, text, f.cs);
    f.encoder.encode(f.cs, f.meta);
    const std::string from_text(f.encoder.value());
    CHECK(from_text.find(R"("not_utf8":{"before":[],"after":["k","v","j"]})") != std::string::npos);
    // text and varchar send their bytes as they are; jsonb a version byte, then its text.
    pgoutput::Insert binary{std::nullopt,
                            7,
                            {{'b', "caf\xc3"},
                             {'n', ""},
                             {'b', "\xff"},
                             {'n', ""},
                             {'n', ""},
                             {'b', "\x01\"\xc3\""},
                             {'n', ""},
                             {'n', ""}}};
    changeset::build_insert(rel, binary, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(std::string(f.encoder.value()) == from_text);
}

TEST_CASE("not utf8: a json value is checked as json too (base64 only for bad bytes)") {
    Fixture f;
    pgoutput::Relation r;
    r.oid = 9;
    r.schema = "public";
    r.name = "j";
    r.replica_identity = 'd';
    r.columns = {{true, "id", kInt8, -1}, {false, "doc", kJson, -1}};
    const auto& rel = f.cache.define(r, {"id"}, f.types);
    pgoutput::Insert ins{std::nullopt, 9, {{'t', "1"}, {'t', "{\"a\":1"}}};
    changeset::build_insert(rel, ins, f.cs);
    CHECK_THROWS_AS(f.encoder.encode(f.cs, f.meta), encode::ValueFormatError);
}

TEST_CASE("not utf8: a message's prefix and content that are not UTF-8 are base64") {
    Fixture f;
    encode::MessageEvent m;
    m.prefix = "caf\xc3";
    m.content = "\xc3";
    m.captured_time = 1;
    REQUIRE_NOTHROW(f.encoder.encode_message(m));
    CHECK(f.encoder.key() == R"({"prefix":"Y2Fmww=="})");
    const auto d = f.parsed();
    CHECK(std::string(d["prefix"].GetString()) == "Y2Fmww==");
    CHECK(std::string(d["prefix_encoding"].GetString()) == "base64");
    CHECK(std::string(d["content"].GetString()) == "ww==");
    CHECK(std::string(d["content_encoding"].GetString()) == "base64");

    m.prefix = "app";
    f.encoder.encode_message(m);
    CHECK(f.encoder.value().find("prefix_encoding") == std::string::npos);
}
