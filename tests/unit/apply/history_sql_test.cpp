// Tests for core/apply/history_sql: history table names and the statements of a version.
#include "core/apply/history_sql.hpp"

#include <catch2/catch.hpp>

using namespace pgcs::apply;

TEST_CASE("history tables are named <schema>__<table>, within PostgreSQL's 63 bytes", "[apply]") {
    CHECK(history_table_name("public", "users") == "public__users");
    CHECK(history_table_name(std::string(30, 's'), std::string(31, 't')).has_value());
    CHECK_FALSE(history_table_name(std::string(30, 's'), std::string(32, 't')).has_value());
}

TEST_CASE("a version closes the previous one and is inserted once", "[apply]") {
    HistoryVersion v;
    v.op = EventOp::Modified;
    v.commit_ts = "2026-11-23T10:00:00.123456Z";
    v.position = {pgcs::parse_lsn("0/10").value(), 2};
    v.xid = 7;
    v.has_row = true;
    v.row = {{"id", "1", false}, {"doc", "null", true}};
    v.changed_json = R"({"doc":{"old":1,"new":null}})";
    const std::string sql = add_version_sql("public__users", R"({"id":1})", v, "", "");
    CHECK_THAT(sql, Catch::StartsWith("UPDATE pgchangeset_history.\"public__users\" SET valid_to = "
                                      "'2026-11-23T10:00:00.123456Z'::timestamptz WHERE key = "
                                      "'{\"id\":1}'::jsonb AND valid_to IS NULL AND (commit_lsn, "
                                      "seq) < ('0/10'::pg_lsn, 2::bigint);"));
    CHECK_THAT(sql, Catch::Contains("'modified', '{\"id\":1,\"doc\":null}'::jsonb, "
                                    "ARRAY['doc']::text[]"));
    CHECK_THAT(sql, Catch::EndsWith("ON CONFLICT (key, commit_lsn, seq) DO NOTHING;"));
    CHECK_THAT(add_version_sql("public__users", R"({"id":1})", v, "", "", true),
               Catch::StartsWith("INSERT INTO pgchangeset_history.\"public__users\""));
    CHECK_THAT(truncate_history_sql("public__users", v),
               Catch::Contains("'truncated', row, json_null"));
}
