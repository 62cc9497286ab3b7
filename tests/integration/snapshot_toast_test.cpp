// A snapshot loses no TOAST value: rows of a table with a large text column stored out of line
// are updated (`counter` only, so PostgreSQL sends the large value as unchanged TOAST) while the
// initial snapshot reads them. A row updated inside its chunk's window is published patched
// from the stream rather than dropped, and the newest state a consumer rebuilds from the topic
// equals the table's, `big` included. Chunks of 10 and 1,000 rows, REPLICA IDENTITY DEFAULT and
// FULL, and a kill -9 of the daemon in the middle of the snapshot.
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>
#include <tuple>

#include "support/capture_fixture.hpp"
#include "support/private_broker.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::json_text;
using pgcs::testing::KafkaReader;
using pgcs::testing::parse_json;
using pgcs::testing::PgClient;
using pgcs::testing::PrivateBroker;
using pgcs::testing::Record;

namespace {

constexpr int kRows = 2000;
// 288 md5s: 9,216 characters of hex drawn at random, per row (over 8 kB, so it goes out of
// line; pglz would not shrink it much, and STORAGE EXTERNAL does not even try).
constexpr const char* kBigValue =
    "(SELECT string_agg(md5(random()::text || {salt} || i), '') FROM generate_series(1, 288) i)";

std::string big_value(const std::string& salt) {
    std::string s = kBigValue;
    s.replace(s.find("{salt}"), 6, salt);
    return s;
}

std::string md5_hex(const std::string& s) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(s.data(), s.size(), digest, &n, EVP_md5(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < n; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 15];
    }
    return out;
}

std::uint64_t parse_lsn(const std::string& text) {
    const auto slash = text.find('/');
    return (std::stoull(text.substr(0, slash), nullptr, 16) << 32) |
           std::stoull(text.substr(slash + 1), nullptr, 16);
}

struct Row {
    long long counter = 0;
    std::optional<std::string> big_md5;  // none: no event ever carried the value
};

// What a consumer rebuilds from the topic: per key, the events in (commit_lsn, seq) order
// (duplicates after a restart dropped), `read` rows included; a `modified` event's unchanged
// TOAST columns that its `after` lacks keep their previous value.
struct Rebuilt {
    std::map<long long, Row> rows;
    std::size_t reads = 0;
    std::size_t events = 0;
    std::size_t unchanged_big = 0;       // modified events with "unchanged_toast":["big"]
    std::size_t unchanged_big_sent = 0;  // of those, with `big` in `after` (REPLICA IDENTITY FULL)
    std::int64_t trimmed = 0;            // records the broker no longer held
    std::string sentinel_commit_lsn;     // of the event of id -1
    std::map<long long, std::string> history;  // id -> its events in order, to explain a mismatch
};

Rebuilt rebuild(const std::string& brokers, const std::string& topic) {
    struct Event {
        std::uint64_t commit_lsn;
        std::uint64_t seq;
        std::string op;
        std::optional<long long> counter;
        std::optional<std::string> big_md5;
    };
    std::map<long long, std::map<std::pair<std::uint64_t, std::uint64_t>, Event>> by_key;
    Rebuilt r;
    KafkaReader reader(brokers);
    reader.visit_to_end(topic, [&](Record&& rec) {
        ++r.events;
        const auto doc = parse_json(rec.value);
        Event e{parse_lsn(doc["commit_lsn"].GetString()), doc["seq"].GetUint64(),
                doc["op"].GetString(), std::nullopt, std::nullopt};
        const rapidjson::Value& row = e.op == "deleted" ? doc["before"] : doc["after"];
        const long long id = row["id"].GetInt64();
        if (id == -1) {
            r.sentinel_commit_lsn = doc["commit_lsn"].GetString();
        }
        if (e.op != "deleted") {
            e.counter = row["counter"].GetInt64();
            if (row.HasMember("big")) {
                e.big_md5 = md5_hex(row["big"].GetString());
            }
        }
        if (e.op == "read") {
            ++r.reads;
        }
        if (e.op == "modified" && json_text(doc["unchanged_toast"]) == R"(["big"])") {
            ++r.unchanged_big;
            r.unchanged_big_sent += row.HasMember("big") ? 1 : 0;
        }
        by_key[id].emplace(std::make_pair(e.commit_lsn, e.seq), std::move(e));
    });
    r.trimmed = reader.dropped();
    for (const auto& [id, events] : by_key) {
        std::optional<Row> state;
        std::string& history = r.history[id];
        for (const auto& [at, e] : events) {
            history +=
                " " + e.op + "@" + std::to_string(at.first) + "/" + std::to_string(at.second) +
                (e.counter ? ":" + std::to_string(*e.counter) : "") + (e.big_md5 ? "+big" : "");
            if (e.op == "deleted") {
                state.reset();
                continue;
            }
            Row next;
            next.counter = *e.counter;
            // Only a `modified` event may leave a column out (unchanged TOAST).
            next.big_md5 = e.big_md5 || e.op != "modified" || !state ? e.big_md5 : state->big_md5;
            state = next;
        }
        if (state) {
            r.rows[id] = *state;
        }
    }
    return r;
}

// The table's rows: counter and md5(big), per id.
std::map<long long, Row> table_rows(PgClient& pg, const std::string& table) {
    const auto doc = parse_json(pg.value(
        "SELECT coalesce(json_agg(json_build_array(id, counter, md5(big))), '[]') FROM " + table));
    std::map<long long, Row> out;
    for (const auto& r : doc.GetArray()) {
        out[r[0].GetInt64()] = {r[1].GetInt64(), std::string(r[2].GetString())};
    }
    return out;
}

// Updates `counter` of five random rows a transaction until stopped; one transaction in 50
// also gives one row's `big` a new value instead (a change that carries every column). Two
// writers, one on the odd ids and one on the even, so that they never wait for each other's
// row locks. At most `max_updates` rows in all (REPLICA IDENTITY FULL sends the whole old and
// new rows, `big` twice: the topic must hold them).
class CounterWriter {
  public:
    CounterWriter(const std::string& table, int max_updates, std::chrono::milliseconds pause) {
        for (int i = 0; i < 2; ++i) {
            threads_.emplace_back([this, table, max_updates, pause, i] {
                PgClient pg(pgcs::testing::pg_conninfo());
                const auto ids = [&](int n) {
                    return "(SELECT (" + std::to_string(1 + i) + " + 2 * floor(random() * " +
                           std::to_string(kRows / 2) + "))::int8 FROM generate_series(1, " +
                           std::to_string(n) + "))";
                };
                for (int n = 0; !stop_ && updates_ < max_updates; ++n) {
                    try {
                        if (n % 50 == 49) {
                            pg.exec("UPDATE " + table + " SET counter = counter + 1, big = " +
                                    big_value("id") + " WHERE id IN " + ids(1));
                            updates_ += 1;
                        } else {
                            pg.exec("UPDATE " + table + " SET counter = counter + 1 WHERE id IN " +
                                    ids(5));
                            updates_ += 5;
                        }
                    } catch (const std::exception& e) {
                        std::lock_guard lock(mutex_);
                        if (error_.empty()) {
                            error_ = e.what();
                        }
                    }
                    std::this_thread::sleep_for(pause);
                }
            });
        }
    }
    ~CounterWriter() { stop(); }
    int updates() const { return updates_; }
    int stop() {
        stop_ = true;
        for (auto& t : threads_) {
            if (t.joinable()) {
                t.join();
            }
        }
        return updates_;
    }
    std::string error() {
        std::lock_guard lock(mutex_);
        return error_;
    }

  private:
    std::atomic<bool> stop_{false};
    std::atomic<int> updates_{0};
    std::mutex mutex_;
    std::string error_;
    std::vector<std::thread> threads_;
};

struct Scenario {
    int chunk_size = 10;
    bool full = false;  // REPLICA IDENTITY FULL
    bool kill = false;  // kill -9 the daemon in the middle of the snapshot
};

// The snapshot's last log line: "complete: N rows (P patched from the stream)".
std::pair<long long, long long> complete_counts(const std::string& log, const std::string& table) {
    const std::regex line("snapshot of public\\." + table +
                          " complete: ([0-9]+) rows \\(([0-9]+) patched from the stream\\)");
    std::smatch m;
    REQUIRE(std::regex_search(log, m, line));
    return {std::stoll(m[1]), std::stoll(m[2])};
}

void run(const Scenario& s) {
    PrivateBroker broker;  // a topic of 16 partitions: 80 MB of room, it keeps the whole run
    CaptureFixture f("CREATE TABLE {table} (id int8 PRIMARY KEY, counter int4 NOT NULL, big text)");
    f.brokers_override = broker.address;
    broker.command("topic " + f.topic() + " 16");
    f.exec("ALTER TABLE {table} ALTER COLUMN big SET STORAGE EXTERNAL");
    if (s.full) {
        f.exec("ALTER TABLE {table} REPLICA IDENTITY FULL");
    }
    f.exec("INSERT INTO {table} SELECT g, 0, " + big_value("g") + " FROM generate_series(1, " +
           std::to_string(kRows) + ") g");
    // Out of line: the TOAST table holds every value (over 8 kB each, not compressed).
    CHECK(f.pg().value("SELECT min(pg_column_size(big)) > 8192 FROM " + f.table()) == "t");
    const std::string toast = f.pg().value(
        "SELECT reltoastrelid::regclass FROM pg_class WHERE oid = '" + f.table() + "'::regclass");
    CHECK(f.pg().value("SELECT count(DISTINCT chunk_id) FROM " + toast) == std::to_string(kRows));
    f.extra_config =
        "snapshot:\n  mode: initial\n  chunk_size: " + std::to_string(s.chunk_size) + "\n";
    // Bounded under DEFAULT too: a slow snapshot (AddressSanitizer) with an unbounded writer
    // filled even 16 partitions of the dev broker, which then dropped records.
    // FULL's 1,500 rows spread over about 2 s (300 transactions 5 ms apart), from the moment
    // the daemon streams: started before it, they were once all written before the slot was
    // consistent (a loaded machine), so no event carried them.
    std::optional<CounterWriter> writer;
    if (!s.full) {
        writer.emplace(f.table(), 40000, std::chrono::milliseconds(0));
    }
    f.start_daemon();
    if (s.full) {
        writer.emplace(f.table(), 1500, std::chrono::milliseconds(5));
    }
    const std::string complete = "snapshot of public." + f.table() + " complete";
    if (s.kill) {
        REQUIRE(f.pg().wait_for(
            "SELECT coalesce(max(rows_done), 0) >= " + std::to_string(kRows / 4) +
                " FROM pgchangeset_snapshots WHERE slot_name = '" + f.slot() + "'",
            [](const std::string& v) { return v == "t"; }, std::chrono::seconds(120),
            std::chrono::milliseconds(10)));
        f.stop_daemon(SIGKILL);
        const std::string state = f.pg().value(
            "SELECT state || ' ' || rows_done FROM pgchangeset_snapshots WHERE slot_name = '" +
            f.slot() + "'");
        INFO("killed at " << state);
        REQUIRE(state.rfind("running", 0) == 0);
        f.start_daemon();  // the writer goes on meanwhile
        REQUIRE(f.wait_for_log("resuming after the last acknowledged chunk"));
    }
    REQUIRE(f.wait_for_log(complete, std::chrono::seconds(180)));
    // A quick snapshot (a quiet machine) may end before FULL's writer did 100 updates: it goes
    // on for its 2 s, every update checked like the others.
    for (int i = 0; i < 100 && s.full && writer->updates() < 100; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const int updates = writer->stop();
    INFO("rows updated: " << updates << "; writer error: " << writer->error());
    CHECK(writer->error().empty());
    CHECK(updates >= 100);

    // Caught up: a last row written after everything else is in Kafka and acknowledged.
    f.exec("INSERT INTO {table} VALUES (-1, 0, 'end')");
    std::optional<Rebuilt> kafka;
    for (int i = 0; i < 600 && !(kafka && kafka->rows.count(-1)); ++i) {
        if (i > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        kafka = rebuild(broker.address, f.topic());
    }
    REQUIRE(kafka->rows.count(-1) == 1);
    // ... and acknowledged, with every transaction before it: their events are all in Kafka.
    REQUIRE(f.pg().wait_for(
        "SELECT confirmed_flush_lsn >= '" + kafka->sentinel_commit_lsn +
            "' FROM pg_replication_slots WHERE slot_name = '" + f.slot() + "'",
        [](const std::string& v) { return v == "t"; }, std::chrono::seconds(60)));
    kafka = rebuild(broker.address, f.topic());

    const auto [published, patched] = complete_counts(f.daemon_log(), f.table());
    INFO("snapshot: " << published << " rows, " << patched << " patched; topic: " << kafka->reads
                      << " read events of " << kafka->events);
    CHECK(kafka->trimmed == 0);
    // PostgreSQL sent the large value as unchanged TOAST: under DEFAULT absent from `after`,
    // under FULL carried over from the old row.
    CHECK(kafka->unchanged_big > 0);
    CHECK(kafka->unchanged_big_sent == (s.full ? kafka->unchanged_big : 0));
    if (!s.kill) {
        CHECK(static_cast<long long>(kafka->reads) == published);  // every row published once
    }
    // Updates landed inside windows: under FULL every change carries every column, so their
    // rows were dropped as before; under DEFAULT they lacked `big` and their rows were patched.
    if (s.full) {
        CHECK(patched == 0);
        // Usually some rows were dropped, but on a fast machine the short windows of FULL's
        // run may catch no update: not a failure (the rows below are checked all the same).
        if (published == kRows) {
            WARN("no update fell inside a chunk's window in this run");
        }
    } else {
        CHECK(patched > 0);  // after a kill: in the run that finished the snapshot
    }

    const auto db = table_rows(f.pg(), f.table());
    CHECK(kafka->rows.size() == db.size());
    std::size_t differ = 0;
    for (const auto& [id, row] : db) {
        const auto it = kafka->rows.find(id);
        const bool same = it != kafka->rows.end() && it->second.counter == row.counter &&
                          it->second.big_md5 == row.big_md5;
        if (!same && ++differ <= 5) {
            UNSCOPED_INFO("id " << id << ": table counter " << row.counter << " md5 "
                                << *row.big_md5 << "; topic "
                                << (it == kafka->rows.end()
                                        ? std::string("(none)")
                                        : "counter " + std::to_string(it->second.counter) +
                                              " md5 " + it->second.big_md5.value_or("(none)"))
                                << "; events:" << kafka->history[id]);
        }
    }
    CHECK(differ == 0);
}

}  // namespace

TEST_CASE("snapshot loses no TOAST value: REPLICA IDENTITY DEFAULT, chunks of 10",
          "[snapshot][devbroker-only]") {
    run({10, false, false});
}

TEST_CASE("snapshot loses no TOAST value: REPLICA IDENTITY DEFAULT, chunks of 1,000",
          "[snapshot][devbroker-only]") {
    run({1000, false, false});
}

TEST_CASE("snapshot loses no TOAST value: REPLICA IDENTITY FULL, chunks of 10 and 1,000",
          "[snapshot][devbroker-only]") {
    SECTION("chunks of 10") {
        run({10, true, false});
    }
    SECTION("chunks of 1,000") {
        run({1000, true, false});
    }
}

TEST_CASE("snapshot loses no TOAST value: killed with -9 in the middle, resumed",
          "[snapshot][devbroker-only]") {
    run({10, false, true});
}
