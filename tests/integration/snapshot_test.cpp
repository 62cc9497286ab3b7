// Snapshots: existing rows arrive as `read` events, interleaved with streaming, and applying a
// table's events in Kafka order per key yields exactly the table; resumable after kill -9; on
// demand; tables without a key; the modes.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::DaemonProcess;
using pgcs::testing::json_text;
using pgcs::testing::KafkaReader;
using pgcs::testing::parse_json;
using pgcs::testing::PgClient;
using pgcs::testing::Record;
using pgcs::testing::RunResult;

namespace {

constexpr const char* kTable =
    "CREATE TABLE {table} (id int8 PRIMARY KEY, v int NOT NULL, note text)";

// The table as Kafka tells it: every event applied in partition order (one key lives in one
// partition, so this is per-key order).
struct Reconstruction {
    std::map<std::string, std::string> rows;  // key JSON -> after JSON
    std::map<std::string, int> reads;         // key JSON -> read events
    std::size_t events = 0;                   // not counting tombstones
    std::size_t tombstones = 0;               // each follows a deleted event
    std::size_t duplicate_ids = 0;            // events whose (commit_lsn, seq) was seen before
    std::string last_commit_lsn_of(const std::string& key) const {
        const auto it = commit_lsn_by_key.find(key);
        return it == commit_lsn_by_key.end() ? "" : it->second;
    }
    std::map<std::string, std::string> commit_lsn_by_key;
    // The earliest and latest captured_ts of the read events, as sortable text (fixed_ts).
    std::string first_read_captured;
    std::string last_read_captured;
};

// "2026-11-26T05:30:20.1Z" -> "2026-11-26T05:30:20.100000": the fraction padded to 6 digits,
// so that such texts sort as the times they stand for.
std::string fixed_ts(std::string ts) {
    if (!ts.empty() && ts.back() == 'Z') {
        ts.pop_back();
    }
    const auto dot = ts.find('.');
    if (dot == std::string::npos) {
        ts += '.';
    }
    const std::size_t digits = ts.size() - (dot == std::string::npos ? ts.size() : dot + 1);
    return ts + std::string(6 - std::min<std::size_t>(digits, 6), '0');
}

Reconstruction reconstruct(const std::string& topic) {
    Reconstruction r;
    std::set<std::pair<std::string, std::uint64_t>> ids;
    KafkaReader reader(pgcs::testing::brokers());
    reader.visit_to_end(topic, [&](Record&& rec) {
        if (rec.null_value) {  // a tombstone: the key is gone, as for a compacted topic
            ++r.tombstones;
            r.rows.erase(json_text(parse_json(rec.key.value_or("null"))));
            return;
        }
        ++r.events;
        const auto doc = parse_json(rec.value);
        const std::string op = doc["op"].GetString();
        const std::string key = json_text(doc["key"]);
        if (!ids.emplace(doc["commit_lsn"].GetString(), doc["seq"].GetUint64()).second) {
            ++r.duplicate_ids;
        }
        r.commit_lsn_by_key[key] = doc["commit_lsn"].GetString();
        if (op == "read") {
            ++r.reads[key];
            CHECK(doc["before"].IsNull());
            const std::string captured = fixed_ts(doc["captured_ts"].GetString());
            if (r.first_read_captured.empty() || captured < r.first_read_captured) {
                r.first_read_captured = captured;
            }
            r.last_read_captured = std::max(r.last_read_captured, captured);
        }
        if (op == "deleted") {
            r.rows.erase(key);
        } else {
            r.rows[key] = json_text(doc["after"]);
        }
    });
    return r;
}

// The table as PostgreSQL holds it, in the same JSON form.
std::map<std::string, std::string> table_rows(PgClient& pg, const std::string& table) {
    std::map<std::string, std::string> out;
    const std::string json = pg.value(
        "SELECT coalesce(json_agg(json_build_array(json_build_object('id', id), "
        "json_build_object('id', id, 'v', v, 'note', note)))::text, '[]') FROM " +
        table);
    const auto doc = parse_json(json);
    for (const auto& pair : doc.GetArray()) {
        out[json_text(pair[0])] = json_text(pair[1]);
    }
    return out;
}

// Waits until the daemon has acknowledged a last row written after everything else, so that
// every earlier event is in Kafka.
void wait_caught_up(CaptureFixture& f) {
    f.exec("INSERT INTO {table} VALUES (-1, 0, 'end')");
    std::string sentinel_commit;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (sentinel_commit.empty() && std::chrono::steady_clock::now() < deadline) {
        sentinel_commit = reconstruct(f.topic()).last_commit_lsn_of("{\"id\":-1}");
        if (sentinel_commit.empty()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
    REQUIRE_FALSE(sentinel_commit.empty());
    REQUIRE(f.pg().wait_for(
        "SELECT confirmed_flush_lsn >= '" + sentinel_commit +
            "' FROM pg_replication_slots WHERE slot_name = '" + f.slot() + "'",
        [](const std::string& v) { return v == "t"; }, std::chrono::seconds(60)));
}

// Inserts, updates and deletes random keys, many per transaction (so that commits land inside
// the short window between a chunk's read and its watermark), until stopped. Two writers, one
// on the odd keys and one on the even: they never wait for each other's row locks (with
// shared keys they deadlocked, and each deadlock cost a second, deadlock_timeout, so that
// sometimes too few transactions fell inside the snapshot).
class Writer {
  public:
    Writer(const std::string& table, int max_key, std::chrono::milliseconds pause) {
        for (int i = 0; i < 2; ++i) {
            threads_.emplace_back([this, table, max_key, pause, i] {
                PgClient pg(pgcs::testing::pg_conninfo());
                const auto keys = [&](int n) {
                    return "(SELECT DISTINCT (" + std::to_string(1 + i) +
                           " + 2 * floor(random() * " + std::to_string(max_key / 2) +
                           "))::int8 FROM generate_series(1, " + std::to_string(n) + "))";
                };
                while (!stop_) {
                    try {
                        write(pg, table, keys);
                        ++transactions_;
                    } catch (const std::exception& e) {
                        pg.exec("ROLLBACK");
                        std::lock_guard lock(mutex_);
                        if (failed_++ == 0) {
                            first_error_ = e.what();
                        }
                    }
                    std::this_thread::sleep_for(pause);
                }
            });
        }
    }
    ~Writer() { stop(); }
    int stop() {
        stop_ = true;
        for (auto& t : threads_) {
            if (t.joinable()) {
                t.join();
            }
        }
        return transactions_;
    }
    // Transactions that failed and were rolled back, and the first one's error, to say why
    // there were too few.
    std::string failures() {
        std::lock_guard lock(mutex_);
        return std::to_string(failed_) + (failed_ > 0 ? " (first: " + first_error_ + ")" : "");
    }

  private:
    template <typename Keys>
    static void write(PgClient& pg, const std::string& table, const Keys& keys) {
        pg.exec("BEGIN; UPDATE " + table +
                " SET v = v + 1, note = md5(random()::text) WHERE id IN " + keys(300) +
                "; DELETE FROM " + table + " WHERE id IN " + keys(20) + "; INSERT INTO " + table +
                " SELECT k, 0, 'new' FROM " + keys(20) +
                " AS n(k) ON CONFLICT (id) DO UPDATE SET v = " + table + ".v + 100; COMMIT");
    }

    std::atomic<bool> stop_{false};
    std::atomic<int> transactions_{0};
    std::mutex mutex_;
    int failed_ = 0;
    std::string first_error_;
    std::vector<std::thread> threads_;
};

std::string config_section(const std::string& mode, int chunk_size) {
    return "snapshot:\n  mode: " + mode + "\n  chunk_size: " + std::to_string(chunk_size) + "\n";
}

std::string progress(PgClient& pg, const std::string& slot, const std::string& column) {
    return pg.value("SELECT " + column + " FROM pgchangeset_snapshots WHERE slot_name = '" + slot +
                    "'");
}

}  // namespace

TEST_CASE("snapshot under concurrent writes: the events rebuild exactly the table",
          "[snapshot][pgmatrix]") {
    // Small chunks: many windows between a read and its watermark for the writers to hit; the
    // writers pause between transactions so that the daemon keeps up with them. Under
    // AddressSanitizer the daemon is several times slower and each watermark waits behind the
    // writers' backlog: a smaller table and slower writers there.
#if defined(__SANITIZE_ADDRESS__)
    const int rows = 30000;
    const int chunk_size = 100;
    const auto pause = std::chrono::milliseconds(100);
#else
    const int rows = 100000;
    const int chunk_size = 100;  // 1,000 windows; reads overlap (two at once), so a few seconds
    const auto pause = std::chrono::milliseconds(10);
#endif
    CaptureFixture f(kTable);
    f.exec("INSERT INTO {table} SELECT g, 0, 'old ' || g FROM generate_series(1, " +
           std::to_string(rows) + ") g");
    f.extra_config = config_section("initial", chunk_size);
    Writer writer(f.table(), rows + rows / 10, pause);
    f.start_daemon();
    const std::string complete = "snapshot of public." + f.table() + " complete";
    REQUIRE(f.wait_for_log(complete, std::chrono::seconds(180)));
    const int transactions = writer.stop();
    INFO("writer transactions during the snapshot: " << transactions
                                                     << "; failed: " << writer.failures());
    CHECK(transactions >= 10);
    wait_caught_up(f);

    const Reconstruction kafka = reconstruct(f.topic());
    const auto db = table_rows(f.pg(), f.table());
    CHECK(kafka.duplicate_ids == 0);
    CHECK(kafka.rows.size() == db.size());
    std::size_t differ = 0;
    for (const auto& [key, row] : db) {
        const auto it = kafka.rows.find(key);
        if (it == kafka.rows.end() || it->second != row) {
            if (++differ <= 5) {
                UNSCOPED_INFO("key " << key << ": table " << row << ", Kafka "
                                     << (it == kafka.rows.end() ? "(none)" : it->second));
            }
        }
    }
    CHECK(differ == 0);
    // Every row that existed was read once at most; rows changed meanwhile may be left out
    // (the stream carries them).
    for (const auto& [key, n] : kafka.reads) {
        INFO("key " << key);
        REQUIRE(n == 1);
    }
    CHECK(kafka.reads.size() > static_cast<std::size_t>(rows / 2));
    CHECK(progress(f.pg(), f.slot(), "state") == "done");
    // Progress was saved in key order: the finished table was never taken up again.
    CHECK(f.daemon_log().find("resuming after the last acknowledged chunk") == std::string::npos);
}

TEST_CASE("snapshot killed with -9 resumes after the last acknowledged chunk",
          "[snapshot][pgmatrix]") {
#if defined(__SANITIZE_ADDRESS__)
    const int rows = 50000;  // the daemon is several times slower there
#else
    const int rows = 100000;
#endif
    CaptureFixture f(kTable);
    f.exec("INSERT INTO {table} SELECT g, 0, 'old ' || g FROM generate_series(1, " +
           std::to_string(rows) + ") g");
    f.extra_config = config_section("initial", 500);
    f.start_daemon();
    // Polled every 10 ms: the whole snapshot takes well under a second in a Release build.
    REQUIRE(f.pg().wait_for(
        "SELECT coalesce(max(rows_done), 0) >= 10000 FROM pgchangeset_snapshots WHERE "
        "slot_name = '" +
            f.slot() + "'",
        [](const std::string& v) { return v == "t"; }, std::chrono::seconds(120),
        std::chrono::milliseconds(10)));
    f.stop_daemon(SIGKILL);
    const std::string state = progress(f.pg(), f.slot(), "state");
    const std::string saved = progress(f.pg(), f.slot(), "last_key->>0");
    INFO("killed at state " << state << ", last acknowledged key " << saved);
    REQUIRE(state == "running");
    const long long saved_key = std::stoll(saved);

    f.exec("UPDATE {table} SET v = 7 WHERE id IN (1, " + std::to_string(rows - 1) + ")");
    f.start_daemon();
    REQUIRE(f.wait_for_log("resuming after the last acknowledged chunk"));
    REQUIRE(
        f.wait_for_log("snapshot of public." + f.table() + " complete", std::chrono::seconds(180)));
    wait_caught_up(f);

    const Reconstruction kafka = reconstruct(f.topic());
    // The chunks acknowledged before the kill were not read again.
    long long reread = 0;
    for (const auto& [key, n] : kafka.reads) {
        const long long id = parse_json(key)["id"].GetInt64();
        if (id <= saved_key && n != 1) {
            ++reread;
        }
    }
    CHECK(reread == 0);
    CHECK(kafka.reads.size() == static_cast<std::size_t>(rows));
    CHECK(kafka.rows == table_rows(f.pg(), f.table()));
}

TEST_CASE("on-demand snapshot of one table (with a condition) while another streams",
          "[snapshot]") {
    CaptureFixture f(kTable);
    const std::string other = f.table() + "_b";
    f.exec("INSERT INTO {table} SELECT g, 0, 'old ' || g FROM generate_series(1, 1000) g");
    f.pg().exec("CREATE TABLE " + other + " (id int8 PRIMARY KEY, v int NOT NULL, note text)");
    struct Drop {
        PgClient& pg;
        std::string table;
        ~Drop() {
            try {
                pg.exec("DROP TABLE IF EXISTS " + table);
            } catch (...) {
            }
        }
    } drop{f.pg(), other};
    f.extra_config = config_section("never", 30);
    f.start_daemon_with_tables({"public." + f.table(), "public." + other});

    auto request = [&](const std::vector<std::string>& extra) {
        std::vector<std::string> args{pgcs::testing::bin_dir() + "/pgchangeset", "snapshot",
                                      "--config", f.config_path()};
        args.insert(args.end(), extra.begin(), extra.end());
        DaemonProcess cli(args, "/tmp/pgcs-snapshot-cli-" + f.slot() + ".log");
        return cli.wait(std::chrono::seconds(30));
    };
    // Mistakes are refused before anything is recorded.
    const RunResult bad_where = request({"--table", "public." + f.table(), "--where", "nope >"});
    CHECK(bad_where.exit_code == 2);
    CHECK(bad_where.log.find("--where is not a valid condition") != std::string::npos);
    const RunResult unknown = request({"--table", "public.no_such_table_here"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.log.find("no_such_table_here") != std::string::npos);

    const RunResult ok = request({"--table", "public." + f.table(), "--where", "id <= 100"});
    INFO(ok.log);
    REQUIRE(ok.exit_code == 0);
    for (int i = 1; i <= 200; ++i) {
        f.pg().exec("INSERT INTO " + other + " VALUES (" + std::to_string(i) + ", 1, 'b')");
    }
    REQUIRE(f.wait_for_log("snapshot of public." + f.table() + " complete"));

    const auto reads = f.read(100);
    REQUIRE(reads.size() == 100);
    std::set<long long> ids;
    for (const auto& r : reads) {
        const auto doc = parse_json(r.value);
        CHECK(std::string(doc["op"].GetString()) == "read");
        ids.insert(doc["after"]["id"].GetInt64());
    }
    CHECK(ids.size() == 100);
    CHECK(*ids.begin() == 1);
    CHECK(*ids.rbegin() == 100);
    KafkaReader reader(pgcs::testing::brokers());
    CHECK(reader.read(f.prefix() + ".public." + other, 200).size() == 200);
    // Nothing beyond the condition.
    CHECK(reader.read_all(f.topic(), 100, std::chrono::seconds(2)).size() == 100);
}

TEST_CASE("a table without a key: read under the new slot's exported snapshot, later by blocks",
          "[snapshot][pgmatrix]") {
    CaptureFixture f("CREATE TABLE {table} (a int, b text)");
    f.exec("INSERT INTO {table} SELECT g, 'row ' || g FROM generate_series(1, 3000) g");
    f.extra_config = config_section("initial", 1000);
    f.start_daemon();
    REQUIRE(f.wait_for_log("snapshot of public." + f.table() + " complete"));
    CHECK(f.daemon_log().find("read whole under the new slot's exported snapshot") !=
          std::string::npos);
    // Written after the slot's consistent point: a change, not part of the snapshot.
    f.exec("INSERT INTO {table} VALUES (5000, 'after')");
    auto check = [&](const std::vector<Record>& records, const std::string& consistent_lsn) {
        std::map<std::string, int> ops;
        std::set<int> read_rows;
        for (const auto& r : records) {
            CHECK_FALSE(r.key.has_value());
            const auto doc = parse_json(r.value);
            const std::string op = doc["op"].GetString();
            ++ops[op];
            if (op == "read") {
                read_rows.insert(doc["after"]["a"].GetInt());
                if (!consistent_lsn.empty()) {
                    CHECK(std::string(doc["commit_lsn"].GetString()) == consistent_lsn);
                }
            }
        }
        CHECK(read_rows.size() == 3000);
        return ops;
    };
    const auto first = f.read(3001);
    REQUIRE(first.size() == 3001);
    // The exported snapshot's rows sit at the slot's consistent point, before every change.
    std::string consistent;
    for (const auto& r : first) {
        const auto doc = parse_json(r.value);
        if (std::string(doc["op"].GetString()) == "read") {
            consistent = doc["commit_lsn"].GetString();
            break;
        }
    }
    auto ops = check(first, consistent);
    CHECK(ops["read"] == 3000);
    CHECK(ops["added"] == 1);

    // Asked again later there is no exported snapshot: ranges of blocks, with a warning.
    DaemonProcess cli({pgcs::testing::bin_dir() + "/pgchangeset", "snapshot", "--config",
                       f.config_path(), "--table", "public." + f.table()},
                      "/tmp/pgcs-snapshot-cli-" + f.slot() + ".log");
    REQUIRE(cli.wait(std::chrono::seconds(30)).exit_code == 0);
    REQUIRE(f.pg().wait_for(
        "SELECT state FROM pgchangeset_snapshots WHERE slot_name = '" + f.slot() + "'",
        [](const std::string& v) { return v == "done"; }));
    CHECK(f.daemon_log().find("has no primary key or replica identity index") != std::string::npos);
    const auto all = f.read(6002);
    REQUIRE(all.size() == 6002);
    ops.clear();
    for (const auto& r : all) {
        ++ops[parse_json(r.value)["op"].GetString()];
    }
    CHECK(ops["read"] == 6001);
}

TEST_CASE("snapshot.mode never publishes no existing row, initial_only reads them and exits 0",
          "[snapshot]") {
    SECTION("never") {
        CaptureFixture f(kTable);
        f.exec("INSERT INTO {table} SELECT g, 0, 'old' FROM generate_series(1, 50) g");
        f.extra_config = config_section("never", 1000);
        f.start_daemon();
        f.exec("INSERT INTO {table} VALUES (1000, 1, 'new')");
        const auto records = f.read(2, std::chrono::seconds(5));
        REQUIRE(records.size() == 1);
        CHECK(std::string(parse_json(records[0].value)["op"].GetString()) == "added");
    }
    SECTION("initial_only") {
        CaptureFixture f(kTable);
        f.exec("INSERT INTO {table} SELECT g, 0, 'old' FROM generate_series(1, 500) g");
        f.extra_config = config_section("initial_only", 64);
        f.start_daemon(false);
        const RunResult r = f.daemon().wait(std::chrono::seconds(60));
        INFO(r.log);
        REQUIRE(r.exit_code == 0);
        CHECK(r.log.find("snapshot complete (snapshot.mode initial_only)") != std::string::npos);
        const Reconstruction kafka = reconstruct(f.topic());
        CHECK(kafka.events == 500);
        CHECK(kafka.reads.size() == 500);
        CHECK(kafka.duplicate_ids == 0);
        CHECK(kafka.rows == table_rows(f.pg(), f.table()));
        // `status` reports it.
        DaemonProcess status(
            {pgcs::testing::bin_dir() + "/pgchangeset", "status", "--config", f.config_path()},
            "/tmp/pgcs-status-" + f.slot() + ".log");
        const RunResult st = status.wait(std::chrono::seconds(30));
        INFO(st.log);
        CHECK(st.log.find("snapshot: public." + f.table() + " done 500 rows") != std::string::npos);
    }
}

TEST_CASE("one table's chunks are read at the same time, every row once", "[snapshot]") {
    // Each chunk of a keyed table finds where it ends first (an index scan) and hands that over,
    // so the next chunk is read while it still reads its rows: with 2 connections, 2 at once.
    CaptureFixture f(kTable);
    f.exec("INSERT INTO {table} SELECT g, 0, 'old' FROM generate_series(1, 20000) g");
    f.extra_config = config_section("initial_only", 250) + "  connections: 2\n";
    const auto server_now = [&] {
        return fixed_ts(
            f.pg().value("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                         "'YYYY-MM-DD\"T\"HH24:MI:SS.US')"));
    };
    const std::string started = server_now();
    f.start_daemon(false);
    const RunResult r = f.daemon().wait(std::chrono::seconds(120));
    INFO(r.log);
    REQUIRE(r.exit_code == 0);
    const auto at = r.log.find("chunks read in this run, up to ");
    REQUIRE(at != std::string::npos);
    CHECK(r.log.find(
              "complete: 20000 rows (0 patched from the stream); 81 chunks read in this run") !=
          std::string::npos);
    CHECK(std::stoi(r.log.substr(at + 31)) == 2);
    const Reconstruction kafka = reconstruct(f.topic());
    CHECK(kafka.events == 20000);
    CHECK(kafka.reads.size() == 20000);
    CHECK(kafka.duplicate_ids == 0);
    CHECK(kafka.rows == table_rows(f.pg(), f.table()));
    CHECK(progress(f.pg(), f.slot(), "state || ' ' || rows_done") == "done 20000");
    // A read event's captured_ts is when its chunk was read: during the run.
    const std::string finished = server_now();
    CHECK(kafka.first_read_captured >= started);
    CHECK(kafka.last_read_captured <= finished);
    CHECK(kafka.first_read_captured < kafka.last_read_captured);  // 81 chunks, not one time
}
