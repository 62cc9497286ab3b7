#include <catch2/catch.hpp>

#include "core/changeset/changeset.hpp"

using namespace pgcs;
using changeset::Value;
using State = changeset::Value::State;

namespace {

pgoutput::Relation users(char identity) {
    pgoutput::Relation r;
    r.oid = 16400;
    r.schema = "public";
    r.name = "users";
    r.replica_identity = identity;
    const bool flags_key = identity == 'd' || identity == 'i';
    const bool flags_all = identity == 'f';
    r.columns = {{flags_key || flags_all, "id", 20, -1},
                 {flags_all, "name", 25, -1},
                 {flags_all, "bio", 25, -1}};
    return r;
}

pgoutput::Tuple row(std::initializer_list<pgoutput::TupleValue> values) {
    return values;
}

}  // namespace

TEST_CASE("relation cache: key columns from flags, or from the catalog under FULL/NOTHING") {
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    const auto& d = cache.define(users('d'), {}, types);
    CHECK(d.columns[0].is_key);
    CHECK_FALSE(d.columns[1].is_key);
    CHECK(d.has_key);
    CHECK(d.columns[0].type->name == "int8");

    const auto& f = cache.define(users('f'), {"id"}, types);  // pgoutput flags every column
    CHECK(f.columns[0].is_key);
    CHECK_FALSE(f.columns[1].is_key);
    CHECK_FALSE(f.columns[2].is_key);

    const auto& n = cache.define(users('n'), {}, types);  // no primary key
    CHECK_FALSE(n.has_key);

    auto empty_schema = users('d');
    empty_schema.schema = "";
    CHECK(cache.define(empty_schema, {}, types).schema == "pg_catalog");

    auto unknown = users('d');
    unknown.columns[1].type_oid = 999999;
    CHECK_THROWS_AS(cache.define(unknown, {}, types), std::invalid_argument);
    CHECK_THROWS_AS(cache.get(1), changeset::UnknownRelation);
}

TEST_CASE("relation cache: the catalog is needed under FULL/NOTHING only, and the last key known") {
    // DEFAULT and INDEX: pgoutput's flags are the key, so a dropped table keeps its key.
    CHECK_FALSE(changeset::RelationCache::needs_catalog_key('d'));
    CHECK_FALSE(changeset::RelationCache::needs_catalog_key('i'));
    CHECK(changeset::RelationCache::needs_catalog_key('f'));
    CHECK(changeset::RelationCache::needs_catalog_key('n'));

    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    CHECK_FALSE(cache.key_columns(16400).has_value());  // never defined
    cache.define(users('f'), {"name", "id"}, types);
    CHECK(cache.key_columns(16400) == std::vector<std::string>{"id", "name"});  // column order
    cache.define(users('d'), {}, types);
    CHECK(cache.key_columns(16400) == std::vector<std::string>{"id"});
    cache.define(users('n'), {}, types);
    CHECK(cache.key_columns(16400) == std::vector<std::string>{});  // known: no key
}

TEST_CASE("relation cache accepts a redefinition of the same OID") {
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    cache.define(users('d'), {}, types);
    auto altered = users('d');
    altered.columns.push_back({false, "plan", 25, -1});
    const auto& r = cache.define(altered, {}, types);
    CHECK(cache.get(16400).columns.size() == 4);
    CHECK(&r == &cache.get(16400));
}

TEST_CASE("insert: after is the new row, key from after") {
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    const auto& rel = cache.define(users('d'), {}, types);
    changeset::Changeset cs;
    pgoutput::Insert ins{std::nullopt, 16400, row({{'t', "1"}, {'t', "Ann"}, {'n', ""}})};
    changeset::build_insert(rel, ins, cs);
    CHECK(cs.op == changeset::Op::Added);
    CHECK_FALSE(cs.has_before);
    REQUIRE(cs.after.size() == 3);
    CHECK(cs.after[1].state == State::Text);
    CHECK(cs.after[1].data == "Ann");
    CHECK(cs.after[2].state == State::Null);
    CHECK_FALSE(cs.key_from_before);
}

TEST_CASE("update under DEFAULT without key change: no before, changed unknown") {
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    const auto& rel = cache.define(users('d'), {}, types);
    changeset::Changeset cs;
    pgoutput::Update upd{std::nullopt, 16400, 0, {}, row({{'t', "1"}, {'t', "Bo"}, {'u', ""}})};
    changeset::build_update(rel, upd, cs);
    CHECK(cs.op == changeset::Op::Modified);
    CHECK_FALSE(cs.has_before);
    CHECK_FALSE(cs.has_changed);
    CHECK(cs.after[2].state == State::Absent);  // unchanged TOAST: absent, never null
    CHECK(cs.unchanged_toast == std::vector<std::uint16_t>{2});
}

TEST_CASE("update under DEFAULT with key change: before holds the old key only") {
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    const auto& rel = cache.define(users('d'), {}, types);
    changeset::Changeset cs;
    pgoutput::Update upd{std::nullopt, 16400, 'K', row({{'t', "1"}, {'n', ""}, {'n', ""}}),
                         row({{'t', "2"}, {'t', "Bo"}, {'t', "x"}})};
    changeset::build_update(rel, upd, cs);
    REQUIRE(cs.has_before);
    CHECK(cs.before[0].data == "1");
    CHECK(cs.before[1].state == State::Absent);  // 'n' placeholders are not NULL values
    CHECK(cs.before[2].state == State::Absent);
    CHECK_FALSE(cs.has_changed);
    CHECK_FALSE(cs.key_from_before);  // the event goes under the new key
}

TEST_CASE("update under FULL: changed columns, unchanged TOAST filled from before") {
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    const auto& rel = cache.define(users('f'), {"id"}, types);
    changeset::Changeset cs;
    pgoutput::Update upd{std::nullopt, 16400, 'O', row({{'t', "1"}, {'t', "Al"}, {'t', "long"}}),
                         row({{'t', "1"}, {'t', "Bo"}, {'u', ""}})};
    changeset::build_update(rel, upd, cs);
    REQUIRE(cs.has_changed);
    CHECK(cs.changed == std::vector<std::uint16_t>{1});
    CHECK(cs.after[2].state == State::Text);
    CHECK(cs.after[2].data == "long");
    CHECK(cs.unchanged_toast == std::vector<std::uint16_t>{2});

    pgoutput::Update to_null{std::nullopt, 16400, 'O', row({{'t', "1"}, {'t', "Al"}, {'t', "x"}}),
                             row({{'t', "1"}, {'n', ""}, {'t', "x"}})};
    changeset::build_update(rel, to_null, cs);
    CHECK(cs.changed == std::vector<std::uint16_t>{1});
    CHECK(cs.unchanged_toast.empty());
}

TEST_CASE("delete: key-only before under DEFAULT, whole row under FULL") {
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    changeset::Changeset cs;
    const auto& d = cache.define(users('d'), {}, types);
    pgoutput::Delete del{std::nullopt, 16400, 'K', row({{'t', "7"}, {'n', ""}, {'n', ""}})};
    changeset::build_delete(d, del, cs);
    CHECK(cs.op == changeset::Op::Deleted);
    CHECK(cs.key_from_before);
    CHECK_FALSE(cs.has_after);
    CHECK(cs.before[0].data == "7");
    CHECK(cs.before[1].state == State::Absent);

    const auto& f = cache.define(users('f'), {"id"}, types);
    pgoutput::Delete full{std::nullopt, 16400, 'O', row({{'t', "7"}, {'n', ""}, {'t', "b"}})};
    changeset::build_delete(f, full, cs);
    CHECK(cs.before[1].state == State::Null);  // a real NULL under FULL
    CHECK(cs.before[2].data == "b");
}

TEST_CASE("a tuple that does not match its relation is an error, not a guess") {
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    const auto& rel = cache.define(users('d'), {}, types);
    changeset::Changeset cs;
    pgoutput::Insert short_row{std::nullopt, 16400, row({{'t', "1"}})};
    CHECK_THROWS_AS(changeset::build_insert(rel, short_row, cs), changeset::ChangesetError);
    pgoutput::Delete no_old{std::nullopt, 16400, 0, {}};
    CHECK_THROWS_AS(changeset::build_delete(rel, no_old, cs), changeset::ChangesetError);
}
