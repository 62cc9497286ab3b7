// Tests for core/apply/mirror_batch: consecutive events of one table in one statement, each
// key's events still in their order.
#include "core/apply/mirror_batch.hpp"

#include <catch2/catch.hpp>

#include "core/apply/mirror_sql.hpp"

using namespace pgcs::apply;

namespace {

SinkEvent row(EventOp op, const std::string& id, const std::string& name = "n") {
    SinkEvent e;
    e.op = op;
    e.schema = "public";
    e.table = "t";
    e.key = {{"id", id, false}};
    e.types = {{"id", "int8"}, {"name", "text"}};
    if (op != EventOp::Deleted) {
        e.after = {{"id", id, false}, {"name", name, false}};
    }
    return e;
}

// A run as one string: its statement, or "COPY " and its COPY text.
std::string text(const MirrorRun& run) {
    return run.sql.empty() ? "COPY " + run.copy : run.sql;
}

// Every run the batch gives for `events`, in order (COPY from `copy_rows` rows on).
std::vector<std::string> statements(const std::vector<SinkEvent>& events, std::size_t max = 1000,
                                    std::size_t copy_rows = 1000) {
    MirrorBatch batch(max, copy_rows);
    std::vector<std::string> out;
    for (const SinkEvent& e : events) {
        if (MirrorRun closed = batch.add(e); !closed.empty()) {
            out.push_back(text(closed));
        }
    }
    if (MirrorRun last = batch.take(); !last.empty()) {
        out.push_back(text(last));
    }
    return out;
}

constexpr const char* kInsert = "INSERT INTO \"public\".\"t\" (\"id\", \"name\") VALUES ";
constexpr const char* kConflict =
    " ON CONFLICT (\"id\") DO UPDATE SET \"name\" = EXCLUDED.\"name\";";

}  // namespace

TEST_CASE("upserts of one table with distinct keys are one INSERT", "[apply]") {
    const auto sql = statements({row(EventOp::Added, "1", "a"), row(EventOp::Modified, "2", "b"),
                                 row(EventOp::Read, "3", "c")});
    REQUIRE(sql.size() == 1);
    CHECK(sql[0] == std::string(kInsert) +
                        "('1'::\"int8\", 'a'::\"text\"), ('2'::\"int8\", 'b'::\"text\"), "
                        "('3'::\"int8\", 'c'::\"text\")" +
                        kConflict);
}

TEST_CASE("one upsert is the single-event statement", "[apply]") {
    const SinkEvent e = row(EventOp::Added, "1", "a");
    CHECK(statements({e}) == std::vector<std::string>{upsert_sql(e)});
    const SinkEvent d = row(EventOp::Deleted, "1");
    CHECK(statements({d}) == std::vector<std::string>{delete_sql(d)});
}

TEST_CASE("a key the run has already starts a new statement, after the first", "[apply]") {
    // ON CONFLICT DO UPDATE cannot change one row twice; the later version must win.
    const auto sql = statements({row(EventOp::Added, "1", "a"), row(EventOp::Added, "2", "b"),
                                 row(EventOp::Modified, "1", "c"), row(EventOp::Added, "3", "d")});
    REQUIRE(sql.size() == 2);
    CHECK(sql[0] == std::string(kInsert) +
                        "('1'::\"int8\", 'a'::\"text\"), ('2'::\"int8\", 'b'::\"text\")" +
                        kConflict);
    CHECK(sql[1] == std::string(kInsert) +
                        "('1'::\"int8\", 'c'::\"text\"), ('3'::\"int8\", 'd'::\"text\")" +
                        kConflict);
}

TEST_CASE("an upsert then a delete of the same key keep their order", "[apply]") {
    const auto sql = statements({row(EventOp::Added, "1", "a"), row(EventOp::Added, "2", "b"),
                                 row(EventOp::Deleted, "1"), row(EventOp::Deleted, "2"),
                                 row(EventOp::Added, "1", "again")});
    REQUIRE(sql.size() == 3);
    CHECK_THAT(sql[0], Catch::StartsWith(kInsert));
    CHECK(sql[1] ==
          "DELETE FROM \"public\".\"t\" AS pgcs_t USING (VALUES ('1'::\"int8\"), ('2'::\"int8\")) "
          "AS pgcs_k (\"id\") WHERE pgcs_t.\"id\" = pgcs_k.\"id\";");
    CHECK(sql[2] == std::string(kInsert) + "('1'::\"int8\", 'again'::\"text\")" + kConflict);
}

TEST_CASE("another table, column list or column type ends the run", "[apply]") {
    SinkEvent other_table = row(EventOp::Added, "2");
    other_table.table = "u";
    SinkEvent toast = row(EventOp::Modified, "3");  // an unchanged TOAST value left out
    toast.after.pop_back();
    toast.unchanged_toast = {"name"};
    SinkEvent retyped = row(EventOp::Added, "4");
    retyped.types[1].type = "varchar";
    const auto sql = statements(
        {row(EventOp::Added, "1"), other_table, toast, retyped, row(EventOp::Added, "5")});
    REQUIRE(sql.size() == 5);
    CHECK_THAT(sql[1], Catch::StartsWith("INSERT INTO \"public\".\"u\""));
    CHECK_THAT(sql[2], Catch::EndsWith("ON CONFLICT (\"id\") DO NOTHING;"));
    CHECK_THAT(sql[3], Catch::Contains("'n'::\"varchar\""));
}

TEST_CASE("a composite key's deletes join on every key column", "[apply]") {
    auto key_row = [](const std::string& a, const std::string& b) {
        SinkEvent e;
        e.op = EventOp::Deleted;
        e.schema = "s";
        e.table = "t";
        e.key = {{"a", a, false}, {"b", b, false}};
        e.types = {{"a", "int4"}, {"b", "text"}};
        return e;
    };
    const auto sql = statements({key_row("1", "x"), key_row("2", "y")});
    REQUIRE(sql.size() == 1);
    CHECK(sql[0] ==
          "DELETE FROM \"s\".\"t\" AS pgcs_t USING (VALUES ('1'::\"int4\", 'x'::\"text\"), "
          "('2'::\"int4\", 'y'::\"text\")) AS pgcs_k (\"a\", \"b\") WHERE pgcs_t.\"a\" = "
          "pgcs_k.\"a\" AND pgcs_t.\"b\" = pgcs_k.\"b\";");
}

TEST_CASE("a run holds at most max_rows rows", "[apply]") {
    std::vector<SinkEvent> events;
    for (int i = 0; i < 5; ++i) {
        events.push_back(row(EventOp::Added, std::to_string(i)));
    }
    CHECK(statements(events, 2).size() == 3);
    MirrorBatch batch;
    CHECK(batch.empty());
    CHECK(batch.take().empty());
}

TEST_CASE("from copy_rows rows on, a run is COPY text for a staging table", "[apply]") {
    SinkEvent odd = row(EventOp::Added, "2", "tab\there\nnew\\line");
    odd.after[1].sql_null = false;
    SinkEvent null_name = row(EventOp::Added, "3");
    null_name.after[1] = {"name", "", true};
    MirrorBatch batch(1000, 3);
    CHECK(batch.add(row(EventOp::Added, "1", "a")).empty());
    CHECK(batch.add(odd).empty());
    CHECK(batch.add(null_name).empty());
    const MirrorRun run = batch.add(row(EventOp::Deleted, "1"));  // ends the run of three
    CHECK(run.sql.empty());
    CHECK(run.rows == 3);
    CHECK(run.copy == "1\ta\n2\ttab\\there\\nnew\\\\line\n3\t\\N\n");
    CHECK(run.columns == std::vector<ColumnType>{{"id", "int8"}, {"name", "text"}});
    CHECK(run.key_names == std::vector<std::string>{"id"});
    CHECK(batch.take().sql == delete_sql(row(EventOp::Deleted, "1")));
    // Below copy_rows the same run is one INSERT.
    CHECK_THAT(statements({row(EventOp::Added, "1"), row(EventOp::Added, "2")}, 1000, 3)[0],
               Catch::StartsWith(kInsert));
}

TEST_CASE("a staged run is merged with the key's conflict rule, bytea decoded", "[apply]") {
    const std::vector<ColumnType> columns{{"id", "int8"}, {"pic", "bytea"}, {"n", "_int4"}};
    CHECK(create_staging_sql("s1", columns) ==
          "CREATE TEMP TABLE \"s1\" (\"id\" \"int8\", \"pic\" text, \"n\" \"_int4\");");
    CHECK(copy_staging_sql("s1", columns) == "COPY \"s1\" (\"id\", \"pic\", \"n\") FROM STDIN");
    CHECK(merge_staged_sql("s1", "public", "t", columns, {"id"}) ==
          "INSERT INTO \"public\".\"t\" (\"id\", \"pic\", \"n\") SELECT \"id\", "
          "decode(\"pic\", 'base64'), \"n\" FROM \"s1\" ON CONFLICT (\"id\") DO UPDATE SET "
          "\"pic\" = EXCLUDED.\"pic\", \"n\" = EXCLUDED.\"n\";TRUNCATE \"s1\";");
}
