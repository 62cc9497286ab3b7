// Key changes as two events, from the bytes PostgreSQL sends: Relation and Update messages are
// written with the pgoutput writer, decoded, built and split.
#include <catch2/catch.hpp>

#include "core/changeset/changeset.hpp"
#include "core/changeset/key_change.hpp"
#include "core/pgoutput/decoder.hpp"
#include "support/pgoutput_writer.hpp"

using namespace pgcs;
using changeset::Changeset;
using changeset::Op;
using changeset::Value;
using State = changeset::Value::State;

namespace {

// users(id int8, name text, bio text), with `identity` as its REPLICA IDENTITY.
struct Table {
    explicit Table(char identity) {
        pgoutput::Relation r;
        r.oid = 16400;
        r.schema = "public";
        r.name = "users";
        r.replica_identity = identity;
        const bool all = identity == 'f';
        r.columns = {{identity != 'n', "id", 20, -1}, {all, "name", 25, -1}, {all, "bio", 25, -1}};
        relation_bytes = testing::write(r);
        const auto decoded = std::get<pgoutput::Relation>(pgoutput::decode(relation_bytes, {}));
        info = &cache.define(
            decoded, identity == 'f' ? std::vector<std::string>{"id"} : std::vector<std::string>{},
            types);
    }

    // The update as pgoutput sends it, built. The bytes stay alive in `update_bytes`, the
    // decoded message in `update`: the Changeset's values point into them.
    const Changeset& build(char old_kind, pgoutput::Tuple old_tuple, pgoutput::Tuple new_tuple) {
        update_bytes = testing::write(
            pgoutput::Update{std::nullopt, 16400, old_kind, std::move(old_tuple), new_tuple});
        update = std::get<pgoutput::Update>(pgoutput::decode(update_bytes, {}));
        changeset::build_update(*info, update, change);
        return change;
    }

    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    std::vector<std::byte> relation_bytes;
    const changeset::RelationInfo* info = nullptr;
    std::vector<std::byte> update_bytes;
    pgoutput::Update update;
    Changeset change;
};

std::string text_of(const Value& v) {
    switch (v.state) {
        case State::Absent:
            return "<absent>";
        case State::Null:
            return "NULL";
        default:
            return std::string(v.data);
    }
}

std::vector<std::string> row_of(const std::vector<Value>& row) {
    std::vector<std::string> out;
    for (const auto& v : row) {
        out.push_back(text_of(v));
    }
    return out;
}

using Strings = std::vector<std::string>;
using Columns = std::vector<std::uint16_t>;

}  // namespace

TEST_CASE(
    "key change under DEFAULT: deleted under the old key, then added with the whole new row") {
    Table t('d');
    const auto& update = t.build('K', {{'t', "1"}, {'n', ""}, {'n', ""}},
                                 {{'t', "2"}, {'t', "Bo"}, {'t', "short bio"}});
    REQUIRE(changeset::changes_key(update));
    Changeset deleted;
    Changeset added;
    changeset::split_key_change(update, deleted, added);

    CHECK(deleted.op == Op::Deleted);
    CHECK(deleted.key_from_before);
    REQUIRE(deleted.has_before);
    CHECK(row_of(deleted.before) == Strings{"1", "<absent>", "<absent>"});  // the old key only
    CHECK_FALSE(deleted.has_after);
    CHECK_FALSE(deleted.has_changed);
    CHECK(deleted.unchanged_toast.empty());

    CHECK(added.op == Op::Added);
    CHECK_FALSE(added.key_from_before);  // under the new key
    REQUIRE(added.has_before);
    CHECK(row_of(added.before) == Strings{"1", "<absent>", "<absent>"});
    REQUIRE(added.has_after);
    CHECK(row_of(added.after) == Strings{"2", "Bo", "short bio"});
    CHECK_FALSE(added.has_changed);
    CHECK(added.unchanged_toast.empty());
}

TEST_CASE("key change under DEFAULT with an unchanged TOAST column: still listed, then filled") {
    Table t('d');
    const auto& update =
        t.build('K', {{'t', "1"}, {'n', ""}, {'n', ""}}, {{'t', "2"}, {'t', "Bo"}, {'u', ""}});
    REQUIRE(changeset::changes_key(update));
    Changeset deleted;
    Changeset added;
    changeset::split_key_change(update, deleted, added);
    CHECK(row_of(added.after) == Strings{"2", "Bo", "<absent>"});  // never a placeholder
    CHECK(added.unchanged_toast == Columns{2});
    CHECK(deleted.unchanged_toast.empty());

    // What the publisher read from the table.
    changeset::fill_column(added, 2, {State::Text, "the long bio"});
    CHECK(row_of(added.after) == Strings{"2", "Bo", "the long bio"});
    CHECK(added.unchanged_toast.empty());
    // A column that is not missing is left as it is.
    changeset::fill_column(added, 1, {State::Text, "other"});
    CHECK(row_of(added.after) == Strings{"2", "Bo", "the long bio"});
}

TEST_CASE("key change under FULL: both halves carry the whole old row, TOAST from the old row") {
    Table t('f');
    const auto& update = t.build('O', {{'t', "1"}, {'t', "Al"}, {'t', "the long bio"}},
                                 {{'t', "2"}, {'t', "Al"}, {'u', ""}});
    REQUIRE(changeset::changes_key(update));
    Changeset deleted;
    Changeset added;
    changeset::split_key_change(update, deleted, added);
    CHECK(row_of(deleted.before) == Strings{"1", "Al", "the long bio"});
    CHECK(deleted.key_from_before);
    CHECK_FALSE(deleted.has_after);
    CHECK(row_of(added.before) == Strings{"1", "Al", "the long bio"});
    CHECK(row_of(added.after) == Strings{"2", "Al", "the long bio"});
    CHECK(added.unchanged_toast.empty());  // nothing is missing any more
    CHECK_FALSE(added.has_changed);
}

TEST_CASE("an update that keeps its key is no key change") {
    SECTION("DEFAULT without an old key") {
        Table t('d');
        CHECK_FALSE(changeset::changes_key(t.build(0, {}, {{'t', "1"}, {'t', "Bo"}, {'u', ""}})));
    }
    SECTION("FULL with the same key") {
        Table t('f');
        const auto& update = t.build('O', {{'t', "1"}, {'t', "Al"}, {'t', "x"}},
                                     {{'t', "1"}, {'t', "Bo"}, {'t', "x"}});
        CHECK_FALSE(changeset::changes_key(update));
        CHECK(update.changed == Columns{1});
    }
    SECTION("DEFAULT with an old key that did not change (a key stored out of line)") {
        Table t('d');
        // PostgreSQL sends the old key when a key value is external, and the new row's
        // unchanged key as 'u': the builder takes it from the old key.
        const auto& update =
            t.build('K', {{'t', "1"}, {'n', ""}, {'n', ""}}, {{'u', ""}, {'t', "Bo"}, {'u', ""}});
        CHECK_FALSE(changeset::changes_key(update));
        CHECK_FALSE(update.has_before);  // an ordinary modified: before null under DEFAULT
        CHECK(row_of(update.after) == Strings{"1", "Bo", "<absent>"});
        CHECK(update.unchanged_toast == Columns{0, 2});
    }
    SECTION("a table without a key (FULL, no primary key): never a key change") {
        pgoutput::Relation r;
        r.oid = 16401;
        r.schema = "public";
        r.name = "notes";
        r.replica_identity = 'f';
        r.columns = {{true, "v", 25, -1}};
        changeset::TypeRegistry types;
        changeset::RelationCache cache;
        const auto& rel = cache.define(r, {}, types);
        REQUIRE_FALSE(rel.has_key);
        pgoutput::Update update{std::nullopt, 16401, 'O', {{'t', "a"}}, {{'t', "b"}}};
        Changeset cs;
        changeset::build_update(rel, update, cs);
        CHECK_FALSE(changeset::changes_key(cs));
    }
}

TEST_CASE("a change of one column of a composite key is a key change") {
    pgoutput::Relation r;
    r.oid = 16402;
    r.schema = "public";
    r.name = "members";
    r.replica_identity = 'd';
    r.columns = {{true, "org", 20, -1}, {true, "member", 20, -1}, {false, "role", 25, -1}};
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    const auto& rel = cache.define(r, {}, types);
    const auto bytes = testing::write(pgoutput::Update{std::nullopt,
                                                       16402,
                                                       'K',
                                                       {{'t', "7"}, {'t', "1"}, {'n', ""}},
                                                       {{'t', "7"}, {'t', "2"}, {'t', "admin"}}});
    const auto update = std::get<pgoutput::Update>(pgoutput::decode(bytes, {}));
    Changeset cs;
    changeset::build_update(rel, update, cs);
    REQUIRE(changeset::changes_key(cs));
    Changeset deleted;
    Changeset added;
    changeset::split_key_change(cs, deleted, added);
    CHECK(row_of(deleted.before) == Strings{"7", "1", "<absent>"});
    CHECK(row_of(added.after) == Strings{"7", "2", "admin"});
}
