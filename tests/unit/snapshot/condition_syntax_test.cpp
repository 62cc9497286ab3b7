// condition_syntax_error: the shape of a `snapshot --where` condition, and chunk_progress_error:
// a chunk that does not advance.
#include "core/snapshot/condition_syntax.hpp"

#include <catch2/catch.hpp>

#include "core/snapshot/chunk_progress.hpp"

using pgcs::snapshot::chunk_progress_error;
using pgcs::snapshot::ChunkOutcome;
using pgcs::snapshot::condition_syntax_error;

namespace {

std::string error_of(const std::string& condition) {
    return condition_syntax_error(condition).value_or("");
}

}  // namespace

TEST_CASE("condition syntax: ordinary expressions pass") {
    for (const char* ok :
         {"id > 0", "id <= 100 AND (region = 'eu' OR region IS NULL)", "note = 'it''s -- fine; (('",
          "note = E'a\\' -- b'", "\"odd -- col\" = 1", "\"a\"\"b\" = ';'", "note = $$ -- ; ( $$",
          "note = $t$ $$ /* $t$", "a$b > 0", "id = ANY ('{1,2}'::int[])", "x - -1 > 0",
          "note LIKE '%/*%'", "id IN (SELECT 1)", ""}) {
        INFO(ok);
        CHECK_FALSE(condition_syntax_error(ok));
    }
}

TEST_CASE(
    "condition syntax: comments, semicolons and unbalanced parentheses or quotes are refused") {
    CHECK(error_of("id > 0) --").find("closes a parenthesis it did not open") != std::string::npos);
    CHECK(error_of("id > 0 --").find("comment ('--')") != std::string::npos);
    CHECK(error_of("id > 0 /* x */").find("comment ('/*')") != std::string::npos);
    CHECK(error_of("id > 0; DELETE FROM t").find("';'") != std::string::npos);
    CHECK(error_of("(id > 0").find("opens a parenthesis it does not close") != std::string::npos);
    CHECK(error_of("true) OR (true").find("closes a parenthesis") != std::string::npos);
    CHECK(error_of("note = 'abc").find("string literal") != std::string::npos);
    CHECK(error_of("note = E'abc\\'").find("string literal") != std::string::npos);
    CHECK(error_of("\"abc = 1").find("quoted identifier") != std::string::npos);
    CHECK(error_of("note = $q$ abc").find("dollar-quoted") != std::string::npos);
    // Each message names the condition and says what to give instead.
    const std::string e = error_of("id > 0) --");
    CHECK(e.find("--where 'id > 0) --'") != std::string::npos);
    CHECK(e.find("give one SQL expression") != std::string::npos);
}

TEST_CASE("chunk progress: a chunk must move past its key and keep its limit") {
    ChunkOutcome c;
    c.after = {"5000"};
    c.last_key = {"5000"};
    c.rows = 1000;
    c.limit = 1000;
    CHECK(chunk_progress_error(c).value_or("").find("did not move past") != std::string::npos);
    c.last = true;  // the end: nothing more is read
    CHECK_FALSE(chunk_progress_error(c));
    c.last = false;
    c.last_key = {"6000"};
    CHECK_FALSE(chunk_progress_error(c));
    c.rows = 5000;  // the limit did not hold
    CHECK(chunk_progress_error(c).value_or("").find("more than its limit of 1000") !=
          std::string::npos);
    c.limit = 0;  // bounded by a key range instead
    CHECK_FALSE(chunk_progress_error(c));
    c.keyed = false;  // blocks: their number always advances, and hold about `limit` rows
    c.last_key = c.after;
    c.limit = 1000;
    CHECK_FALSE(chunk_progress_error(c));
}
