// `pgchangeset sink` in mirror mode rebuilds the source tables in a second database from the
// pipeline's topics, exactly once across a kill -9 of the sink: inserts, updates under REPLICA
// IDENTITY DEFAULT that leave a TOAST value alone, deletes, key changes, TRUNCATE, JSON null and
// SQL NULL, arrays and bytea. Afterwards each target table equals its source (count and md5 of
// every row in key order, in SQL: support/replica_compare.hpp).
#include <thread>

#include "support/capture_fixture.hpp"
#include "support/replica_compare.hpp"
#include "support/scratch_database.hpp"

using pgcs::testing::bin_dir;
using pgcs::testing::CaptureFixture;
using pgcs::testing::compare_replica;
using pgcs::testing::DaemonProcess;
using pgcs::testing::pg_conninfo;
using pgcs::testing::PgClient;
using pgcs::testing::ReplicaTable;
using pgcs::testing::ScratchDatabase;

namespace {

// One batch of every kind of change; `round` makes its keys and values its own.
void workload(CaptureFixture& fx, const std::string& keyed, int round) {
    const std::string base = std::to_string(round * 10000);
    fx.exec("INSERT INTO {table} SELECT " + base +
            " + g, 'n' || g, CASE g % 3 WHEN 0 THEN 'null'::jsonb WHEN 1 THEN NULL "
            "ELSE '{\"a\":[1,null]}' END, repeat(md5(g::text), 300), ARRAY['x' || g, NULL, "
            "'q\"b'], '\\x00ff'::bytea, g * 1.25 FROM generate_series(1, 600) g");
    fx.exec("INSERT INTO " + keyed + " SELECT 'r' || (g % 4), " + base +
            " + g, g * -0.5 FROM generate_series(1, 300) g");
    // DEFAULT identity: the TOAST column `big` is not sent (unchanged_toast) and must be kept.
    fx.exec("UPDATE {table} SET name = 'upd' || id, n = NULL WHERE id % 5 = 0 AND id > " + base);
    fx.exec("DELETE FROM {table} WHERE id % 7 = 0 AND id > " + base);
    fx.exec("UPDATE {table} SET id = id + 5000 WHERE id % 11 = 0 AND id > " + base);  // keys
    fx.exec("UPDATE " + keyed + " SET v = v * 2 WHERE id % 3 = 0");
    fx.exec("BEGIN; TRUNCATE " + keyed + "; INSERT INTO " + keyed +
            " SELECT 'after', g, g FROM generate_series(1, 50) g; COMMIT");
}

}  // namespace

TEST_CASE("sink_mirror_converges_exactly_once_across_kill", "[sink]") {
    CaptureFixture fx(
        "CREATE TABLE {table} (id int PRIMARY KEY, name text, doc jsonb, big text, tags text[], "
        "pic bytea, n numeric);"
        "CREATE TABLE {table}_k (region text, id int, v float8, PRIMARY KEY (region, id))");
    const std::string keyed = fx.table() + "_k";
    struct DropKeyed {
        CaptureFixture& fx;
        ~DropKeyed() {
            try {
                fx.exec("DROP TABLE IF EXISTS {table}_k");
            } catch (...) {
            }
        }
    } drop_keyed{fx};
    ScratchDatabase target("sink_" + fx.table());
    fx.extra_config = "sink:\n  conninfo: \"" + target.conninfo() + "\"\n  group_id: g_" +
                      fx.table() + "\n  batch_rows: 40\n";
    fx.start_daemon_with_tables({"public." + fx.table(), "public." + keyed});
    workload(fx, keyed, 1);

    const std::string log = "/tmp/pgcs-test-sink-" + fx.table() + ".log";
    const std::vector<std::string> sink_args{bin_dir() + "/pgchangeset", "sink", "--config",
                                             fx.config_path()};
    PgClient target_pg(target.conninfo());
    {
        DaemonProcess sink(sink_args, log);
        workload(fx, keyed, 2);
        // kill -9 once some batches are committed and more are on their way.
        const bool started = target_pg.wait_for(
            "SELECT count(*) > 0 FROM pg_tables WHERE schemaname = 'pgchangeset_sink'",
            [](const std::string& v) { return v == "t"; });
        REQUIRE(started);
        REQUIRE(target_pg.wait_for(
            "SELECT coalesce(sum(next_offset), 0) > 300 FROM pgchangeset_sink.offsets",
            [](const std::string& v) { return v == "t"; }));
        INFO(pgcs::testing::read_file(log));
        REQUIRE(sink.stop(SIGKILL).exit_code == -1);
    }
    workload(fx, keyed, 3);
    DaemonProcess sink(sink_args, log);

    const std::vector<ReplicaTable> tables = {
        {"public." + fx.table(), "id", "id, name, doc, big, tags, pic, n"},
        {"public." + keyed, "region, id", "region, id, v"}};
    std::string difference = "not compared";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (std::chrono::steady_clock::now() < deadline) {
        difference.clear();
        for (const ReplicaTable& t : tables) {
            if (target_pg.value("SELECT to_regclass('" + t.name + "') IS NOT NULL") != "t") {
                difference = t.name + " is not in the target";
            } else {
                difference += compare_replica(fx.pg(), target_pg, t);
            }
        }
        if (difference.empty() && sink.running()) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    INFO(pgcs::testing::read_file(log));
    CHECK(difference == "");
    CHECK(fx.pg().value("SELECT count(*) FROM " + keyed + " WHERE region <> 'after'") == "0");
    CHECK(sink.stop(SIGTERM).exit_code == 0);
}
