// Tests for core/apply/mirror_sql: the statements mirror mode runs, from parsed events.
#include "core/apply/mirror_sql.hpp"

#include <catch2/catch.hpp>

using namespace pgcs::apply;

namespace {

SinkEvent users_event(EventOp op) {
    SinkEvent e;
    e.op = op;
    e.schema = "public";
    e.table = "Us\"ers";
    e.key = {{"id", "42", false}};
    e.types = {{"id", "int8"}, {"name", "text"}, {"pic", "bytea"}, {"blob", "text"}};
    e.after = {{"id", "42", false}, {"name", "O'Hara", false}, {"pic", "AAE=", false}};
    return e;
}

}  // namespace

TEST_CASE("quoting", "[apply]") {
    CHECK(quote_ident("a\"b") == "\"a\"\"b\"");
    CHECK(quote_literal("it's") == "'it''s'");
    CHECK(value_sql({"c", "", true}, "int4") == "NULL::\"int4\"");
    CHECK(value_sql({"c", "AAE=", false}, "bytea") == "decode('AAE=', 'base64')");
    CHECK(value_sql({"c", "{1,2}", false}, "_int4") == "'{1,2}'::\"_int4\"");
}

TEST_CASE("an upsert writes after's columns and keeps the others (unchanged TOAST)", "[apply]") {
    CHECK(upsert_sql(users_event(EventOp::Modified)) ==
          "INSERT INTO \"public\".\"Us\"\"ers\" (\"id\", \"name\", \"pic\") VALUES "
          "('42'::\"int8\", 'O''Hara'::\"text\", decode('AAE=', 'base64')) ON CONFLICT (\"id\") "
          "DO UPDATE SET \"name\" = EXCLUDED.\"name\", \"pic\" = EXCLUDED.\"pic\";");
    SinkEvent keys_only = users_event(EventOp::Added);
    keys_only.after = {{"id", "42", false}};
    CHECK_THAT(upsert_sql(keys_only), Catch::EndsWith("ON CONFLICT (\"id\") DO NOTHING;"));
}

TEST_CASE("delete, truncate and the table's creation", "[apply]") {
    CHECK(delete_sql(users_event(EventOp::Deleted)) ==
          "DELETE FROM \"public\".\"Us\"\"ers\" WHERE \"id\" = '42'::\"int8\";");
    CHECK(truncate_sql("s", "t") == "TRUNCATE \"s\".\"t\";");
    CHECK(create_table_sql(users_event(EventOp::Added)) ==
          "CREATE SCHEMA IF NOT EXISTS \"public\";CREATE TABLE IF NOT EXISTS "
          "\"public\".\"Us\"\"ers\" (\"id\" \"int8\", \"name\" \"text\", \"pic\" \"bytea\", "
          "\"blob\" \"text\", PRIMARY KEY (\"id\"));");
    CHECK(add_column_sql(users_event(EventOp::Added), {"n", "numeric"}) ==
          "ALTER TABLE \"public\".\"Us\"\"ers\" ADD COLUMN IF NOT EXISTS \"n\" \"numeric\";");
}
