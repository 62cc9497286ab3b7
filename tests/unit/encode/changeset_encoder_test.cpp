#include "core/encode/changeset_encoder.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <random>

#include "core/changeset/key_change.hpp"
#include "core/encode/civil_date.hpp"

using namespace pgcs;

TEST_CASE("timestamps are UTC with six fraction digits") {
    CHECK(encode::format_timestamp(0) == "2000-01-01T00:00:00.000000Z");
    CHECK(encode::format_timestamp(-1) == "1999-12-31T23:59:59.999999Z");
    // 2026-11-23T10:00:00.123456Z
    const std::int64_t unix_s = 1795428000;
    CHECK(encode::format_timestamp((unix_s - 946684800LL) * 1000000LL + 123456) ==
          "2026-11-23T10:00:00.123456Z");
    CHECK(encode::format_timestamp((951782400LL - 946684800LL) * 1000000LL) ==
          "2000-02-29T00:00:00.000000Z");
    // The ends of PostgreSQL's timestamp range, without overflow.
    CHECK(encode::format_timestamp(9223371331199999999LL) == "294276-12-31T23:59:59.999999Z");
    CHECK(encode::format_timestamp(-211813488000000000LL) == "-4713-11-24T00:00:00.000000Z");
}

// LSN text has its own tests (tests/unit/pgoutput/lsn_test.cpp).
TEST_CASE("timestamp text matches printf's form over random values") {
    std::mt19937_64 rng(42);
    for (int i = 0; i < 20000; ++i) {
        char expected[80];
        // Any instant from 4713 BC to 294276 AD (PostgreSQL's timestamp range).
        const std::int64_t lo = -211813488000000000LL;
        const std::int64_t hi = 9223371331200000000LL;
        const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
        const auto ts = static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + rng() % span);
        std::int64_t days = ts / 86400000000LL;
        std::int64_t rem = ts % 86400000000LL;
        if (rem < 0) {
            rem += 86400000000LL;
            --days;
        }
        days += 10957;  // days from 1970-01-01 to 2000-01-01
        const auto date = encode::detail::civil_from_days(days);
        const auto secs = rem / 1000000;
        std::snprintf(expected, sizeof expected, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                      static_cast<long long>(date.year), date.month, date.day,
                      static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                      static_cast<long long>(secs % 60), static_cast<long long>(rem % 1000000));
        REQUIRE(encode::format_timestamp(ts) == expected);
    }
}

namespace {

struct Fixture {
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    changeset::Changeset cs;
    encode::ChangesetEncoder encoder{types};
    changeset::EventMeta meta{0, 1, 742, 0x16B3748, 0x16B3800, 3};

    const changeset::RelationInfo& define(char identity, const std::vector<std::string>& pk = {}) {
        pgoutput::Relation r;
        r.oid = 1;
        r.schema = "public";
        r.name = "users";
        r.replica_identity = identity;
        r.columns = {{identity != 'n', "id", 20, -1},
                     {identity == 'f', "name", 25, -1},
                     {identity == 'f', "plan", 25, -1}};
        return cache.define(r, pk, types);
    }
};

}  // namespace

TEST_CASE("a modified event under FULL is the contract's example") {
    Fixture f;
    const auto& rel = f.define('f', {"id"});
    pgoutput::Update upd{std::nullopt,
                         1,
                         'O',
                         {{'t', "42"}, {'t', "Alice"}, {'t', "free"}},
                         {{'t', "42"}, {'t', "Bob"}, {'u', ""}}};
    changeset::build_update(rel, upd, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(f.encoder.has_key());
    CHECK(f.encoder.key() == R"({"id":42})");
    CHECK(
        f.encoder.value() ==
        R"({"op":"modified","schema":"public","table":"users","key":{"id":42},)"
        R"("before":{"id":42,"name":"Alice","plan":"free"},)"
        R"("after":{"id":42,"name":"Bob","plan":"free"},"changed":["name"],)"
        R"("unchanged_toast":["plan"],"types":{"id":"int8","name":"text","plan":"text"},)"
        R"("commit_ts":"2000-01-01T00:00:00.000000Z","captured_ts":"2000-01-01T00:00:00.000001Z",)"
        R"("xid":742,"lsn":"0/16B3748","commit_lsn":"0/16B3800","seq":3,"contract":2})");
}

TEST_CASE("unchanged TOAST under DEFAULT is absent from after and listed") {
    Fixture f;
    const auto& rel = f.define('d');
    pgoutput::Update upd{std::nullopt, 1, 0, {}, {{'t', "42"}, {'t', "Bob"}, {'u', ""}}};
    changeset::build_update(rel, upd, f.cs);
    f.encoder.encode(f.cs, f.meta);
    const std::string v(f.encoder.value());
    CHECK(v.find(R"("before":null,"after":{"id":42,"name":"Bob"},"changed":null,)"
                 R"("unchanged_toast":["plan"])") != std::string::npos);
}

TEST_CASE("deleted under DEFAULT: key-only before, null after, key from before") {
    Fixture f;
    const auto& rel = f.define('d');
    pgoutput::Delete del{std::nullopt, 1, 'K', {{'t', "42"}, {'n', ""}, {'n', ""}}};
    changeset::build_delete(rel, del, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(f.encoder.key() == R"({"id":42})");
    const std::string v(f.encoder.value());
    CHECK(v.find(R"("op":"deleted")") != std::string::npos);
    CHECK(v.find(R"("key":{"id":42},"before":{"id":42},"after":null,"changed":null,)") !=
          std::string::npos);
}

TEST_CASE("a key change: deleted under the old key, then added with before under the new key") {
    Fixture f;
    const auto& rel = f.define('d');
    pgoutput::Update upd{std::nullopt,
                         1,
                         'K',
                         {{'t', "42"}, {'n', ""}, {'n', ""}},
                         {{'t', "43"}, {'t', "Bob"}, {'t', "free"}}};
    changeset::build_update(rel, upd, f.cs);
    changeset::Changeset deleted;
    changeset::Changeset added;
    changeset::split_key_change(f.cs, deleted, added);
    f.encoder.encode(deleted, f.meta);
    CHECK(f.encoder.key() == R"({"id":42})");
    CHECK(std::string(f.encoder.value())
              .find(R"({"op":"deleted","schema":"public","table":"users","key":{"id":42},)"
                    R"("before":{"id":42},"after":null,"changed":null,"unchanged_toast":[],)") !=
          std::string::npos);
    f.meta.seq = 4;
    f.encoder.encode(added, f.meta);
    CHECK(f.encoder.key() == R"({"id":43})");
    CHECK(std::string(f.encoder.value())
              .find(R"({"op":"added","schema":"public","table":"users","key":{"id":43},)"
                    R"("before":{"id":42},"after":{"id":43,"name":"Bob","plan":"free"},)"
                    R"("changed":null,"unchanged_toast":[],)") != std::string::npos);
    CHECK(std::string(f.encoder.value()).find(R"("seq":4,"contract":2})") != std::string::npos);
}

TEST_CASE("a table without key and a truncate have a null key") {
    Fixture f;
    const auto& rel = f.define('n');
    pgoutput::Insert ins{std::nullopt, 1, {{'t', "1"}, {'n', ""}, {'t', "x"}}};
    changeset::build_insert(rel, ins, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK_FALSE(f.encoder.has_key());
    CHECK(std::string(f.encoder.value()).find(R"("key":null)") != std::string::npos);

    changeset::build_truncate(f.define('d'), f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK_FALSE(f.encoder.has_key());
    const std::string v(f.encoder.value());
    CHECK(v.find(R"("op":"truncated","schema":"public","table":"users","key":null,)"
                 R"("before":null,"after":null,"changed":null,"unchanged_toast":[])") !=
          std::string::npos);
}

TEST_CASE("column names are JSON-escaped") {
    Fixture f;
    pgoutput::Relation r;
    r.oid = 2;
    r.schema = "public";
    r.name = "we\"ird";
    r.replica_identity = 'd';
    r.columns = {{true, "i\"d", 23, -1}};
    const auto& rel = f.cache.define(r, {}, f.types);
    pgoutput::Insert ins{std::nullopt, 2, {{'t', "5"}}};
    changeset::build_insert(rel, ins, f.cs);
    f.encoder.encode(f.cs, f.meta);
    CHECK(f.encoder.key() == R"({"i\"d":5})");
    CHECK(std::string(f.encoder.value()).find(R"("table":"we\"ird")") != std::string::npos);
}

TEST_CASE("the types object follows a redefined relation and a renamed type") {
    Fixture f;
    pgoutput::Relation r;
    r.oid = 1;
    r.schema = "public";
    r.name = "users";
    r.replica_identity = 'd';
    r.columns = {{1, "id", 20, -1}, {0, "mood", 90001, -1}};
    f.types.add({90001, "mood", 'e'});
    pgoutput::Insert ins{std::nullopt, 1, {{'t', "1"}, {'t', "happy"}}};
    auto encode_types = [&]() {
        changeset::build_insert(f.cache.get(1), ins, f.cs);
        f.encoder.encode(f.cs, f.meta);
        const std::string v(f.encoder.value());
        const auto at = v.find(R"("types":)");
        return v.substr(at, v.find('}', at) - at + 1);
    };
    f.cache.define(r, {}, f.types);
    CHECK(encode_types() == R"("types":{"id":"int8","mood":"mood"})");
    CHECK(encode_types() == R"("types":{"id":"int8","mood":"mood"})");  // from the cache
    f.types.add({90001, "feeling", 'e'});  // ALTER TYPE mood RENAME TO feeling
    CHECK(encode_types() == R"("types":{"id":"int8","mood":"feeling"})");
    r.columns[1].name = "state";  // a Relation message after ALTER TABLE ... RENAME COLUMN
    f.cache.define(r, {}, f.types);
    CHECK(encode_types() == R"("types":{"id":"int8","state":"feeling"})");
}

TEST_CASE("a read event encoded in two steps equals the one-step encoding") {
    Fixture f;
    const auto& rel = f.define('d');
    f.cs.clear();
    f.cs.op = changeset::Op::Read;
    f.cs.relation = &rel;
    f.cs.has_after = true;
    f.cs.after = {{changeset::Value::State::Text, "42"},
                  {changeset::Value::State::Text, "Al \"ice\""},
                  {changeset::Value::State::Null, {}}};
    const changeset::EventMeta meta{
        -1, 123456789, 4294967295U, 0xFFFFFFFF00000001ULL, 0x16B3800, 18446744073709551615ULL};
    f.encoder.encode(f.cs, meta);
    const std::string one_step(f.encoder.value());
    CHECK(
        one_step ==
        R"({"op":"read","schema":"public","table":"users","key":{"id":42},"before":null,)"
        R"("after":{"id":42,"name":"Al \"ice\"","plan":null},"changed":null,)"
        R"("unchanged_toast":[],"types":{"id":"int8","name":"text","plan":"text"},)"
        R"("commit_ts":"1999-12-31T23:59:59.999999Z","captured_ts":"2000-01-01T00:02:03.456789Z",)"
        R"("xid":4294967295,"lsn":"FFFFFFFF/1","commit_lsn":"0/16B3800",)"
        R"("seq":18446744073709551615,"contract":2})");

    encode::ChangesetEncoder other(f.types);
    other.encode_without_meta(f.cs);
    CHECK(other.key() == R"({"id":42})");
    std::string two_steps(other.value());
    CHECK(two_steps.back() == '}');  // the types object; the event object is still open
    const std::string prefix = two_steps;
    encode::ChangesetEncoder::append_event_meta(two_steps, meta);
    CHECK(two_steps == one_step);

    // A chunk's way: the fields before seq once, then seq per row (meta.seq not used).
    std::string head;
    changeset::EventMeta without_seq = meta;
    without_seq.seq = 7;
    encode::ChangesetEncoder::event_meta_head(head, without_seq);
    std::string by_head = prefix + head;
    encode::ChangesetEncoder::append_seq(by_head, meta.seq);
    CHECK(by_head == one_step);

    // The same encoder again, for another row: its kept writers start afresh.
    f.cs.after[0] = {changeset::Value::State::Text, "43"};
    other.encode_without_meta(f.cs);
    CHECK(other.key() == R"({"id":43})");
    CHECK(std::string(other.value()).find(R"("after":{"id":43,)") != std::string::npos);
}
