// Watermark: the content of a snapshot chunk's watermark message, and telling ours from another
// slot's, another run's, or garbage.
#include "core/snapshot/watermark.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>

using pgcs::snapshot::Watermark;

TEST_CASE("watermark: <slot>/<run id>/<chunk id>, read back to the chunk id") {
    const Watermark w("pgcs_slot", "00c0ffee00c0ffee");
    CHECK(w.content(42) == "pgcs_slot/00c0ffee00c0ffee/42");
    CHECK(w.chunk_id(w.content(42)) == std::optional<std::uint64_t>(42));
    CHECK(w.chunk_id(w.content(0)) == std::optional<std::uint64_t>(0));
    CHECK(w.chunk_id(w.content(UINT64_MAX)) == std::optional<std::uint64_t>(UINT64_MAX));
}

TEST_CASE("watermark: another slot's, another run's or garbage names no chunk") {
    const Watermark w("pgcs_slot", "00c0ffee00c0ffee");
    for (const char* content : {
             "other_slot/00c0ffee00c0ffee/42",  // another daemon on the same database
             "pgcs_slot/1111111111111111/42",   // an earlier run of this one
             "pgcs_slot2/00c0ffee00c0ffee/42",  // a slot whose name starts with ours
             "pgcs_slot/00c0ffee00c0ffee0/42",  // a run id that starts with ours
             "pgcs_slot/00c0ffee00c0ffee/",     // no chunk id
             "pgcs_slot/00c0ffee00c0ffee/4x2",  // trailing garbage
             "pgcs_slot/00c0ffee00c0ffee/-1",   // not a chunk id
             "pgcs_slot/00c0ffee00c0ffee/+1",   // a sign
             "pgcs_slot/00c0ffee00c0ffee/ 1",   // a space
             "pgcs_slot/00c0ffee00c0ffee/18446744073709551616",  // past 64 bits
             "pgcs_slot/00c0ffee00c0ffee",                       // cut short
             "",                                                 // empty
             "garbage",                                          // no slash at all
         }) {
        INFO(content);
        CHECK_FALSE(w.chunk_id(content).has_value());
    }
}

TEST_CASE("watermark: each run gets its own id, 16 hexadecimal digits") {
    const std::string a = Watermark::new_run_id();
    const std::string b = Watermark::new_run_id();
    CHECK(a.size() == 16);
    CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(a != b);
    // A watermark of run a is not one of run b.
    CHECK_FALSE(Watermark("s", b).chunk_id(Watermark("s", a).content(1)).has_value());
}
