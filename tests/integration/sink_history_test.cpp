// `pgchangeset sink` in history mode keeps every version of every row, exactly once across a
// kill -9 of the sink (and of the daemon): a snapshot's rows (`read`), inserts, updates under
// REPLICA IDENTITY DEFAULT (no old row in the events) that leave a TOAST value alone, JSON null
// and SQL NULL, key changes across partitions, deletes and a TRUNCATE. The test keeps its own
// ledger of what it wrote; afterwards every key's versions equal the ledger's (op, row,
// `changed` with the true old and new values), the last one is the source's row, and
// `pgchangeset history` prints them.
#include <sys/wait.h>

#include <cstdio>
#include <sstream>
#include <thread>

#include "support/capture_fixture.hpp"
#include "support/history_ledger.hpp"
#include "support/kafka_reader.hpp"
#include "support/scratch_database.hpp"

using pgcs::testing::bin_dir;
using pgcs::testing::CaptureFixture;
using pgcs::testing::DaemonProcess;
using pgcs::testing::HistoryLedger;
using pgcs::testing::LedgerRow;
using pgcs::testing::parse_json;
using pgcs::testing::PgClient;
using pgcs::testing::ScratchDatabase;

namespace {

struct CommandResult {
    int exit_code = -1;
    std::vector<std::string> lines;  // standard output
};

CommandResult history(const std::string& config, const std::string& args) {
    CommandResult r;
    FILE* p =
        popen((bin_dir() + "/pgchangeset history --config " + config + " " + args + " 2>/dev/null")
                  .c_str(),
              "r");
    REQUIRE(p != nullptr);
    std::string text;
    char buf[4096];
    for (std::size_t n = 0; (n = fread(buf, 1, sizeof buf, p)) > 0;) {
        text.append(buf, n);
    }
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        r.lines.push_back(line);
    }
    return r;
}

bool same_json(const std::string& a, const std::string& b) {
    return parse_json(a) == parse_json(b);
}

LedgerRow row(int id, const std::string& name, const std::string& plan, const std::string& doc,
              bool big) {
    return {id, name, plan, doc, big ? HistoryLedger::big_text(id) : ""};
}

// Updates `ids` one statement each, keeping big (TOAST, STORAGE EXTERNAL) untouched.
void update(CaptureFixture& fx, HistoryLedger& ledger, const std::vector<int>& ids,
            const std::string& plan, const std::string& doc_sql, const std::string& doc) {
    for (int id : ids) {
        LedgerRow r = ledger.rows.at(id);
        r.plan = plan;
        r.name = "u" + std::to_string(id) + plan;
        if (!doc.empty()) {
            r.doc = doc;
        }
        fx.exec("UPDATE {table} SET plan = " + HistoryLedger::quote(plan) +
                ", name = " + HistoryLedger::quote(r.name) +
                (doc.empty() ? "" : ", doc = " + doc_sql) + " WHERE id = " + std::to_string(id));
        ledger.modified(r);
    }
}

void insert(CaptureFixture& fx, HistoryLedger& ledger, int from, int to) {
    for (int id = from; id <= to; ++id) {
        const std::string doc = id % 3 == 0   ? "json-null"
                                : id % 3 == 1 ? "sql-null"
                                              : "{\"a\": [" + std::to_string(id) + ", null]}";
        const LedgerRow r = row(id, "n" + std::to_string(id), "free", doc, id % 2 == 0);
        fx.exec(HistoryLedger::insert_sql("{table}", r));
        ledger.added(r);
    }
}

void change_keys(CaptureFixture& fx, HistoryLedger& ledger, const std::vector<int>& ids) {
    for (int id : ids) {
        fx.exec("UPDATE {table} SET id = " + std::to_string(id + 1000) +
                " WHERE id = " + std::to_string(id));
        ledger.key_changed(id, id + 1000);
    }
}

void remove(CaptureFixture& fx, HistoryLedger& ledger, const std::vector<int>& ids) {
    for (int id : ids) {
        fx.exec("DELETE FROM {table} WHERE id = " + std::to_string(id));
        ledger.deleted(id);
    }
}

// The keys whose versions at the target differ from the ledger's: "id: ledger ops | target ops".
std::string missing_versions(PgClient& target_pg, const std::string& h,
                             const HistoryLedger& ledger) {
    std::string out;
    for (const auto& [id, expected] : ledger.versions) {
        const std::string got = target_pg.value(
            "SELECT coalesce(string_agg(op || '@' || commit_lsn::text || '/' || seq, ' ' ORDER BY "
            "commit_lsn, seq), '') FROM " +
            h + " WHERE key = '{\"id\": " + std::to_string(id) + "}'::jsonb");
        std::string want;
        for (const auto& v : expected) {
            want += (want.empty() ? "" : " ") + v.op;
        }
        std::size_t n = got.empty() ? 0 : 1;
        for (char c : got) {
            n += c == ' ' ? 1 : 0;
        }
        if (n != expected.size()) {
            out += std::to_string(id) + ": " + want + " | " + got + "\n";
        }
    }
    return out;
}

// Every record of the topic, one line each (partition@offset op key commit_lsn/seq): evidence.
std::string topic_dump(CaptureFixture& fx) {
    std::string out;
    pgcs::testing::KafkaReader reader(pgcs::testing::brokers());
    reader.visit_to_end(fx.topic(), [&](pgcs::testing::Record&& r) {
        if (r.null_value) {
            return;
        }
        const rapidjson::Document e = parse_json(r.value);
        out += std::to_string(r.partition) + "@" + std::to_string(r.offset) + " " +
               e["op"].GetString() + " " + pgcs::testing::json_text(e["key"]) + " " +
               e["commit_lsn"].GetString() + "/" + std::to_string(e["seq"].GetUint64()) + "\n";
    });
    return out;
}

}  // namespace

TEST_CASE("sink_history_keeps_every_version_exactly_once_across_kill", "[sink]") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id int PRIMARY KEY, name text, plan text, doc jsonb, big text);"
        "ALTER TABLE {table} ALTER COLUMN big SET STORAGE EXTERNAL");
    HistoryLedger ledger;
    for (int id = 1; id <= 30; ++id) {  // before the slot: the initial snapshot reads them
        const LedgerRow r = row(id, "s" + std::to_string(id), "free",
                                id % 3 == 0 ? "json-null" : "{\"s\": 1}", id % 2 == 0);
        fx.exec(HistoryLedger::insert_sql("{table}", r));
        ledger.read(r);
    }
    ScratchDatabase target("hist_" + fx.table());
    const std::string sink_section = "sink:\n  conninfo: \"" + target.conninfo() +
                                     "\"\n  mode: history\n  group_id: h_" + fx.table() +
                                     "\n  batch_rows: 25\n";
    fx.extra_config = sink_section + "snapshot:\n  mode: initial\n";
    fx.start_daemon();
    // The rows' `read` versions come first only if the snapshot is over before they change:
    // a row changed while its chunk is read is left out of it (the stream carries it).
    REQUIRE(fx.wait_for_log("snapshot of public." + fx.table() + " complete"));
    const std::string config = fx.config_path();
    const std::string log = "/tmp/pgcs-test-history-" + fx.table() + ".log";
    const std::vector<std::string> sink_args{bin_dir() + "/pgchangeset", "sink", "--config",
                                             config};

    insert(fx, ledger, 31, 70);
    update(fx, ledger, ledger.ids([](int id) { return id % 3 == 0; }), "pro", "", "");
    update(fx, ledger, ledger.ids([](int id) { return id % 4 == 1; }), "team", "'null'::jsonb",
           "json-null");
    change_keys(fx, ledger, ledger.ids([](int id) { return id % 10 == 7; }));
    remove(fx, ledger, ledger.ids([](int id) { return id % 9 == 0 && id < 1000; }));
    PgClient target_pg(target.conninfo());
    std::string as_of;
    {
        DaemonProcess sink(sink_args, log);
        // The README's example: Alice is added, renamed Bob with plan free -> pro, deleted.
        const LedgerRow alice = row(500, "Alice", "free", "sql-null", false);
        fx.exec(HistoryLedger::insert_sql("{table}", alice));
        ledger.added(alice);
        LedgerRow bob = alice;
        bob.name = "Bob";
        bob.plan = "pro";
        fx.exec("UPDATE {table} SET name = 'Bob', plan = 'pro' WHERE id = 500");
        ledger.modified(bob);
        as_of = fx.pg().value("SELECT clock_timestamp()::text");
        remove(fx, ledger, {500});
        insert(fx, ledger, 71, 150);
        update(fx, ledger, ledger.ids([](int id) { return id % 2 == 0; }), "pro",
               "'{\"b\": true}'::jsonb", "{\"b\": true}");
        REQUIRE(target_pg.wait_for(
            "SELECT count(*) > 0 FROM pg_tables WHERE schemaname = 'pgchangeset_sink'",
            [](const std::string& v) { return v == "t"; }));
        REQUIRE(target_pg.wait_for(
            "SELECT coalesce(sum(next_offset), 0) > 60 FROM pgchangeset_sink.offsets",
            [](const std::string& v) { return v == "t"; }));
        INFO(pgcs::testing::read_file(log));
        REQUIRE(sink.stop(SIGKILL).exit_code == -1);  // mid-way: more is on its way
    }
    change_keys(fx, ledger, ledger.ids([](int id) { return id % 10 == 3 && id < 1000; }));
    fx.exec("TRUNCATE {table}");
    ledger.truncated();
    insert(fx, ledger, 200, 230);
    update(fx, ledger, ledger.ids([](int id) { return id % 5 == 0; }), "free", "NULL", "sql-null");
    change_keys(fx, ledger, ledger.ids([](int id) { return id % 7 == 1; }));
    // kill -9 of the daemon too: what Kafka had not acknowledged is sent again (at least once).
    CHECK(fx.stop_daemon(SIGKILL).exit_code == -1);
    fx.start_daemon();
    update(fx, ledger, ledger.ids([](int id) { return id % 2 == 1; }), "pro", "", "");
    DaemonProcess sink(sink_args, log);

    const std::string h = "pgchangeset_history.\"public__" + fx.table() + "\"";
    const bool complete = target_pg.wait_for(
        "SELECT CASE WHEN to_regclass('" + h + "') IS NULL THEN -1 ELSE (SELECT count(*) FROM " +
            h + ") END",
        [&](const std::string& v) { return v == std::to_string(ledger.total); },
        std::chrono::seconds(150), std::chrono::milliseconds(500));
    INFO(pgcs::testing::read_file(log));
    if (!complete) {
        std::FILE* f = std::fopen(("/tmp/pgcs-test-history-" + fx.table() + ".dump").c_str(), "w");
        const std::string dump = topic_dump(fx) + "offsets:\n" +
                                 target_pg.value(
                                     "SELECT string_agg(partition || ' ' || next_offset || ' ' || "
                                     "coalesce(commit_lsn::text, '-') || '/' || coalesce(seq, -1), "
                                     "E'\\n' ORDER BY partition) FROM pgchangeset_sink.offsets");
        std::fputs(dump.c_str(), f);
        std::fclose(f);
    }
    INFO("versions missing (ledger | target):\n" +
         (complete ? "" : missing_versions(target_pg, h, ledger)));
    CHECK(target_pg.value("SELECT count(*) FROM " + h) == std::to_string(ledger.total));
    REQUIRE(complete);
    std::this_thread::sleep_for(std::chrono::seconds(1));  // nothing more, e.g. a duplicate
    CHECK(target_pg.value("SELECT count(*) FROM " + h) == std::to_string(ledger.total));

    for (const auto& [id, expected] : ledger.versions) {
        const std::string key = "'{\"id\": " + std::to_string(id) + "}'::jsonb";
        const rapidjson::Document r = parse_json(target_pg.value(
            "SELECT coalesce(json_agg(json_build_array(op, row, changed, json_null, valid_to IS "
            "NULL) ORDER BY commit_lsn, seq)::text, '[]') FROM " +
            h + " WHERE key = " + key));
        INFO("key " << id);
        REQUIRE(r.Size() == expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            const rapidjson::Value& v = r[static_cast<rapidjson::SizeType>(i)];
            INFO("version " << i << ": " << pgcs::testing::json_text(v));
            CHECK(v[0].GetString() == expected[i].op);
            CHECK(same_json(pgcs::testing::json_text(v[1]), expected[i].row));
            CHECK(same_json(pgcs::testing::json_text(v[2]), expected[i].changed));
            CHECK(pgcs::testing::json_text(v[3]) ==
                  (expected[i].json_null.empty() ? "[]" : "[\"doc\"]"));
            CHECK(v[4].GetBool() == (i + 1 == expected.size()));
        }
        // The last version replays to the source's row (or its absence).
        const std::string source =
            fx.pg().value(fx.replace_table("SELECT coalesce((SELECT to_jsonb(t)::text FROM "
                                           "{table} t WHERE id = " +
                                           std::to_string(id) + "), 'none')"));
        const bool live = expected.back().op != "deleted" && expected.back().op != "truncated";
        if (!live) {
            CHECK(source == "none");
        } else {
            CHECK(same_json(source, expected.back().row));
        }
    }
    for (const auto& [from, to] : ledger.key_changes) {
        INFO("key change " << from << " -> " << to);
        CHECK(target_pg.value("SELECT count(*) FROM " + h + " o JOIN " + h +
                              " n ON n.key = o.next_key AND n.prev_key = o.key AND n.commit_lsn "
                              "= o.commit_lsn AND n.seq = o.seq + 1 WHERE o.key = '{\"id\": " +
                              std::to_string(from) +
                              "}' AND n.key = '{\"id\": " + std::to_string(to) + "}'") == "1");
    }
    CHECK(target_pg.value("SELECT count(*) FROM pgchangeset_current.\"public__" + fx.table() +
                          "\"") == std::to_string(ledger.rows.size()));

    // `pgchangeset history`: the contract's lines for Alice, oldest first.
    const CommandResult alice =
        history(config, "--table public." + fx.table() + " --key '{\"id\":500}'");
    REQUIRE(alice.exit_code == 0);
    REQUIRE(alice.lines.size() == 3);
    const char* ops[] = {"added", "modified", "deleted"};
    for (std::size_t i = 0; i < 3; ++i) {
        INFO(alice.lines[i]);
        CHECK_THAT(alice.lines[i],
                   Catch::Matches("\\{\"op\":\"" + std::string(ops[i]) +
                                  "\",\"commit_ts\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\."
                                  "\\d{6}Z\",\"commit_lsn\":\"[0-9A-F]+/[0-9A-F]+\",\"seq\":0,"
                                  "\"xid\":[1-9]\\d*,\"row\":.*,\"changed\":.*\\}"));
    }
    const std::string alice_row =
        R"({"id":500,"name":"Alice","plan":"free","doc":null,"big":null})";
    const std::string bob_row = R"({"id":500,"name":"Bob","plan":"pro","doc":null,"big":null})";
    CHECK_THAT(alice.lines[0], Catch::EndsWith(",\"row\":" + alice_row + ",\"changed\":null}"));
    CHECK_THAT(alice.lines[1], Catch::EndsWith(",\"row\":" + bob_row +
                                               R"(,"changed":{"name":{"old":"Alice","new":"Bob"},)"
                                               R"("plan":{"old":"free","new":"pro"}}})"));
    CHECK_THAT(alice.lines[2], Catch::EndsWith(",\"row\":" + bob_row + ",\"changed\":null}"));
    const CommandResult then = history(
        config, "--table public." + fx.table() + " --key '{\"id\":500}' --as-of '" + as_of + "'");
    CHECK(then.exit_code == 0);
    CHECK(then.lines == std::vector<std::string>{alice.lines[1]});
    const std::string table_arg = "--table public." + fx.table();
    CHECK(history(config, table_arg + " --key '{\"id\":500}' --as-of '2000-01-01'").exit_code == 1);
    CHECK(history(config, table_arg + " --key '{\"id\":500}' --as-of 'now'").exit_code == 1);
    CHECK(history(config, table_arg + " --key '{\"id\":99999}'").exit_code == 1);
    CHECK(history(config, table_arg + " --key '{\"id\":500}' --as-of 'yesterday-ish'").exit_code ==
          2);
    CHECK(history(config, table_arg + " --key 'id=500'").exit_code == 2);
    CHECK(history(config, "--table public.no_such_table --key '{\"id\":1}'").exit_code == 2);
    CHECK(history(config, table_arg).exit_code == 2);  // no --key
    fx.extra_config = "sink:\n  conninfo: \"" + target.conninfo() + "\"\n";
    const std::string mirror_config =
        pgcs::testing::write_temp_file("mirror.yaml", fx.config_text());
    fx.extra_config.clear();
    CHECK(history(mirror_config, table_arg + " --key '{\"id\":500}'").exit_code == 2);
    const std::string no_sink = pgcs::testing::write_temp_file("nosink.yaml", fx.config_text());
    CHECK(history(no_sink, table_arg + " --key '{\"id\":500}'").exit_code == 2);
    CHECK(sink.stop(SIGTERM).exit_code == 0);

    // Every event again (the group's offsets forgotten): the history insert is idempotent on
    // its own, by (key, commit_lsn, seq); nothing is added or changed.
    const std::string digest_sql =
        "SELECT md5(string_agg(h::text, '|' ORDER BY key, commit_lsn, "
        "seq)) FROM " +
        h + " h";
    const std::string digest = target_pg.value(digest_sql);
    const std::string offsets =
        target_pg.value("SELECT sum(next_offset) FROM pgchangeset_sink.offsets");
    target_pg.exec("DELETE FROM pgchangeset_sink.offsets");
    DaemonProcess again(sink_args, log);
    CHECK(target_pg.wait_for(
        "SELECT coalesce(sum(next_offset), 0) FROM pgchangeset_sink.offsets",
        [&](const std::string& v) { return v == offsets; }, std::chrono::seconds(90)));
    CHECK(again.stop(SIGTERM).exit_code == 0);
    CHECK(target_pg.value(digest_sql) == digest);
}
