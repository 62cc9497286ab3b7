// RowPatch and json_member: the stream's values laid over a snapshot row's `read` event, as
// text, each value exactly as the encoder wrote it.
#include "core/snapshot/row_patch.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

using pgcs::snapshot::json_member;
using pgcs::snapshot::RowPatch;

namespace {

// A read event's value as a reader thread encodes it: without the transaction's fields and
// the closing brace.
const std::string kRead =
    R"({"op":"read","schema":"public","table":"tt","key":{"id":7},"before":null,)"
    R"("after":{"id":7,"counter":1,"big":"a}b\"c","f":1e+100,"j":{"after":[1,{"x":"]"}]}},)"
    R"("changed":null,"unchanged_toast":[],"types":{"id":"int8","counter":"int4"})";

std::string patched(const RowPatch& p, const std::string& read = kRead) {
    std::string out = "prefix:";
    p.apply(read, out);
    return out;
}

}  // namespace

TEST_CASE("json_member: a member's text, past strings, objects and arrays that hold brackets") {
    CHECK(json_member(kRead, "op") == R"("read")");
    CHECK(json_member(kRead, "key") == R"({"id":7})");
    CHECK(json_member(kRead, "before") == "null");
    CHECK(json_member(kRead, "after") ==
          R"({"id":7,"counter":1,"big":"a}b\"c","f":1e+100,"j":{"after":[1,{"x":"]"}]}})");
    // The last member of an object cut short before its closing brace.
    CHECK(json_member(kRead, "types") == R"({"id":"int8","counter":"int4"})");
    CHECK_FALSE(json_member(kRead, "id"));  // only the object's own members
    CHECK_FALSE(json_member("{}", "after"));
    CHECK(json_member(R"( { "a" : [ 1 , 2 ] , "b" : true } )", "b") == "true");
    CHECK(json_member(R"({"a\"b":1,"c":-0.0})", "c") == "-0.0");
    CHECK_THROWS_AS(json_member("[1]", "a"), std::invalid_argument);
    CHECK_THROWS_AS(json_member(R"({"a":"unterminated)", "a"), std::invalid_argument);
    CHECK(json_member(R"({"a":{"b":1})", "a") == R"({"b":1})");  // cut short after a member
    CHECK_THROWS_AS(json_member(R"({"a":{"b":1)", "a"), std::invalid_argument);
    CHECK_THROWS_AS(json_member(R"({"a" 1})", "a"), std::invalid_argument);
    CHECK_THROWS_AS(json_member(R"({"a":,})", "a"), std::invalid_argument);
}

TEST_CASE("row patch: the stream's newest values in place of the row's, the rest untouched") {
    RowPatch p;
    CHECK(patched(p) == "prefix:" + kRead);  // nothing carried: the row as it was
    p.overlay(R"({"id":7,"counter":2})");
    p.overlay(R"({"counter":3,"f":-0.0})");  // newer: its values win
    CHECK(p.columns() == 3);
    const std::string expected =
        R"(prefix:{"op":"read","schema":"public","table":"tt","key":{"id":7},"before":null,)"
        R"("after":{"id":7,"counter":3,"big":"a}b\"c","f":-0.0,"j":{"after":[1,{"x":"]"}]}},)"
        R"("changed":null,"unchanged_toast":[],"types":{"id":"int8","counter":"int4"})";
    CHECK(patched(p) == expected);
    // A whole event (closed, with its transaction fields) is patched the same way.
    CHECK(patched(p, kRead + R"(,"seq":0})") == expected + R"(,"seq":0})");
}

TEST_CASE("row patch: a column the row does not have is left out, no after object is an error") {
    RowPatch p;
    p.overlay(R"({"id":7,"added_later":"x","big":null})");
    CHECK(patched(p).find(R"("after":{"id":7,"counter":1,"big":null,"f":1e+100,)") !=
          std::string::npos);
    CHECK(patched(p).find("added_later") == std::string::npos);
    CHECK_THROWS_AS(patched(p, R"({"op":"read","after":null})"), std::invalid_argument);
    CHECK_THROWS_AS(patched(p, R"({"op":"read"})"), std::invalid_argument);
    CHECK_THROWS_AS(p.overlay("null"), std::invalid_argument);
}
