// Large transactions: protocol v2 streams them in pieces before they commit. Events are
// published only at Stream Commit, nothing of an aborted (sub)transaction reaches Kafka,
// interleaved transactions stay apart, and a buffer past buffer.memory_limit spills to disk.
// Also logical decoding messages (postgres.messages).
#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::KafkaReader;
using pgcs::testing::parse_json;
using pgcs::testing::pg_conninfo;
using pgcs::testing::PgClient;
using pgcs::testing::Record;

namespace {

// Streams transactions larger than 64 kB of decoded changes and spills buffers above 64 kB.
void configure_small_memory(CaptureFixture& fx) {
    fx.conninfo_extra = " options='-c logical_decoding_work_mem=64kB'";
    fx.extra_config = "buffer:\n  memory_limit: 64kB\n";
}

// The ids of `added` events, in (commit_lsn, seq) order; checks each commit_lsn's seq runs
// 0, 1, 2, ... without a gap.
std::vector<long> added_ids(const std::vector<Record>& records) {
    struct E {
        std::string commit_lsn;
        std::uint64_t seq;
        long id;
    };
    std::vector<E> events;
    for (const auto& r : records) {
        auto d = parse_json(r.value);
        REQUIRE(std::string(d["op"].GetString()) == "added");
        events.push_back({d["commit_lsn"].GetString(), d["seq"].GetUint64(),
                          static_cast<long>(d["after"]["id"].GetInt64())});
    }
    std::sort(events.begin(), events.end(), [](const E& a, const E& b) {
        return std::tie(a.commit_lsn, a.seq) < std::tie(b.commit_lsn, b.seq);
    });
    std::vector<long> ids;
    std::map<std::string, std::uint64_t> next_seq;
    for (const auto& e : events) {
        CHECK(e.seq == next_seq[e.commit_lsn]++);
        ids.push_back(e.id);
    }
    return ids;
}

std::vector<long> range(long from, long to) {
    std::vector<long> v;
    for (long i = from; i <= to; ++i) {
        v.push_back(i);
    }
    return v;
}

}  // namespace

TEST_CASE(
    "a transaction larger than logical_decoding_work_mem is streamed, spilled and "
    "published once at its commit",
    "[pgmatrix]") {
    CaptureFixture fx("CREATE TABLE {table} (id int8 PRIMARY KEY, pad text)");
    configure_small_memory(fx);
    fx.start_daemon();
    fx.exec("INSERT INTO {table} SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g");
    const auto records = fx.read(20000, std::chrono::seconds(60));
    CHECK(records.size() == 20000);
    CHECK(added_ids(records) == range(1, 20000));
    std::set<std::string> commit_lsns;
    for (const auto& r : records) {
        commit_lsns.insert(parse_json(r.value)["commit_lsn"].GetString());
    }
    CHECK(commit_lsns.size() == 1);
    const std::string log = fx.daemon().log();
    CHECK(log.find("pgoutput v2, streaming") != std::string::npos);
    CHECK(log.find("(spilled to disk)") != std::string::npos);
}

TEST_CASE("a rolled-back subtransaction of a streamed transaction publishes none of its rows",
          "[pgmatrix]") {
    CaptureFixture fx("CREATE TABLE {table} (id int8 PRIMARY KEY, pad text)");
    configure_small_memory(fx);
    fx.start_daemon();
    fx.exec(
        "BEGIN;"
        "INSERT INTO {table} SELECT g, repeat('a', 100) FROM generate_series(1, 5000) g;"
        "SAVEPOINT s1;"
        "INSERT INTO {table} SELECT g, repeat('b', 100) FROM generate_series(5001, 10000) g;"
        "SAVEPOINT s2;"
        "INSERT INTO {table} SELECT g, repeat('c', 100) FROM generate_series(10001, 12000) g;"
        "RELEASE SAVEPOINT s2;"
        "ROLLBACK TO SAVEPOINT s1;"
        "INSERT INTO {table} SELECT g, repeat('d', 100) FROM generate_series(20001, 25000) g;"
        "COMMIT");
    fx.exec("INSERT INTO {table} VALUES (99999, 'marker')");
    const auto records = fx.read(10001, std::chrono::seconds(60));
    auto expected = range(1, 5000);
    for (long i = 20001; i <= 25000; ++i) {
        expected.push_back(i);
    }
    expected.push_back(99999);
    CHECK(added_ids(records) == expected);
}

TEST_CASE("a streamed transaction that rolls back publishes nothing", "[pgmatrix]") {
    CaptureFixture fx("CREATE TABLE {table} (id int8 PRIMARY KEY, pad text)");
    configure_small_memory(fx);
    fx.start_daemon();
    // Rolled back only once the server has streamed part of this very transaction (the slot's
    // stream_txns may count another test's large transaction on the same server): PostgreSQL 18
    // skips decoding a transaction it already knows to be aborted, which would leave nothing
    // to discard.
    PgClient writer(pg_conninfo());
    writer.exec(fx.replace_table(
        "BEGIN;"
        "INSERT INTO {table} SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g"));
    const std::string xid = writer.value("SELECT pg_current_xact_id()::text::int8 % 4294967296");
    REQUIRE(fx.wait_for_log("transaction " + xid + " is being streamed"));
    writer.exec("ROLLBACK");
    fx.exec("INSERT INTO {table} VALUES (7, 'after')");
    // Asks for two records: only the committed one may come.
    CHECK(added_ids(fx.read(2, std::chrono::seconds(5))) == std::vector<long>{7});
    CHECK(fx.wait_for_log("streamed transaction " + xid + " aborted: "));
}

TEST_CASE("interleaved streamed transactions are published whole, in commit order", "[pgmatrix]") {
    CaptureFixture fx("CREATE TABLE {table} (id int8 PRIMARY KEY, pad text)");
    configure_small_memory(fx);
    fx.start_daemon();
    PgClient a(pg_conninfo());
    PgClient b(pg_conninfo());
    const std::string t = fx.table();
    a.exec("BEGIN");
    b.exec("BEGIN");
    for (int round = 0; round < 4; ++round) {
        const long base = round * 3000L;
        a.exec("INSERT INTO " + t + " SELECT g, repeat('a', 100) FROM generate_series(" +
               std::to_string(base + 1) + ", " + std::to_string(base + 3000) + ") g");
        b.exec("INSERT INTO " + t + " SELECT g, repeat('b', 100) FROM generate_series(" +
               std::to_string(100000 + base + 1) + ", " + std::to_string(100000 + base + 3000) +
               ") g");
    }
    b.exec("COMMIT");  // b commits first: its events come first in (commit_lsn, seq) order
    a.exec("COMMIT");
    const auto records = fx.read(24000, std::chrono::seconds(60));
    auto expected = range(100001, 112000);
    for (long i = 1; i <= 12000; ++i) {
        expected.push_back(i);
    }
    CHECK(added_ids(records) == expected);
}

TEST_CASE("logical decoding messages go to the messages topic, heartbeats do not") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.postgres_extra = "  messages: true\n  heartbeat_interval_ms: 200\n";
    fx.start_daemon();
    // Messages are database-wide: other tests' daemons see these too, and this one sees
    // theirs. Prefixes of its own tell them apart.
    const std::string audit_prefix = "app.audit." + fx.table();
    const std::string cache_prefix = "app.cache." + fx.table();
    fx.exec(
        "BEGIN;"
        "INSERT INTO {table} VALUES (1);"
        "SELECT pg_logical_emit_message(true, '" +
        audit_prefix +
        "', 'between rows');"
        "INSERT INTO {table} VALUES (2);"
        "COMMIT");
    fx.exec(
        "BEGIN;"
        "SELECT pg_logical_emit_message(false, '" +
        cache_prefix +
        "', convert_to('now', 'UTF8') || "
        "'\\xff00'::bytea);"
        "INSERT INTO {table} VALUES (3);"
        "ROLLBACK");
    KafkaReader reader(pgcs::testing::brokers());
    // Everything on the topic within a few seconds (other tests' messages included).
    const auto messages = reader.read(fx.prefix() + ".messages", 100000, std::chrono::seconds(5));
    std::map<std::string, rapidjson::Document> by_prefix;
    for (const auto& m : messages) {
        auto d = parse_json(m.value);
        const std::string prefix = d["prefix"].GetString();
        REQUIRE(m.key.has_value());
        CHECK(*m.key == "{\"prefix\":\"" + prefix + "\"}");
        CHECK(prefix != "pgchangeset.heartbeat");  // heartbeats never reach the topic
        if (prefix == audit_prefix || prefix == cache_prefix) {
            CHECK(by_prefix.count(prefix) == 0);  // once each
            by_prefix[prefix] = std::move(d);
        }
    }
    REQUIRE(by_prefix.count(audit_prefix) == 1);
    REQUIRE(by_prefix.count(cache_prefix) == 1);
    const auto& audit = by_prefix[audit_prefix];
    CHECK(std::string(audit["op"].GetString()) == "message");
    CHECK(audit["transactional"].GetBool());
    CHECK(std::string(audit["content"].GetString()) == "between rows");
    CHECK(std::string(audit["content_encoding"].GetString()) == "utf8");
    CHECK(audit["seq"].GetUint64() == 1);  // between the rows (seq 0 and 2)
    CHECK(audit["xid"].IsUint());
    CHECK(audit["commit_ts"].IsString());
    const auto& cache = by_prefix[cache_prefix];
    CHECK_FALSE(cache["transactional"].GetBool());
    CHECK(std::string(cache["content_encoding"].GetString()) == "base64");
    CHECK(std::string(cache["content"].GetString()) == "bm93/wA=");  // "now" 0xff 0x00
    CHECK(cache["commit_lsn"].IsNull());
    CHECK(cache["xid"].IsNull());
    CHECK(cache["seq"].IsNull());
    // The committed rows share their transaction with the audit message.
    const auto rows = fx.read(2);
    REQUIRE(rows.size() == 2);
    for (const auto& r : rows) {
        auto d = parse_json(r.value);
        CHECK(std::string(d["commit_lsn"].GetString()) == audit["commit_lsn"].GetString());
        CHECK(d["seq"].GetUint64() == (d["after"]["id"].GetInt() == 1 ? 0U : 2U));
    }
}

TEST_CASE("a transaction of one million rows arrives whole, once, in bounded memory",
          "[kafka-only][serial]") {
    CaptureFixture fx("CREATE TABLE {table} (id int8 PRIMARY KEY)");
    fx.conninfo_extra = " options='-c logical_decoding_work_mem=64kB'";
    fx.extra_config = "buffer:\n  memory_limit: 16MB\n";
    fx.start_daemon();
    constexpr long kRows = 1000000;
    fx.exec("INSERT INTO {table} SELECT g FROM generate_series(1, " + std::to_string(kRows) +
            ") g");
    std::vector<std::uint8_t> seen(kRows + 1, 0);
    std::set<std::string> commit_lsns;
    long duplicates = 0;
    KafkaReader reader(pgcs::testing::brokers());
    const std::size_t n =
        reader.visit(fx.topic(), kRows, std::chrono::seconds(300), [&](Record&& r) {
            const auto at = r.value.find("\"after\":{\"id\":");
            REQUIRE(at != std::string::npos);
            const long id = std::strtol(r.value.c_str() + at + 14, nullptr, 10);
            REQUIRE((id >= 1 && id <= kRows));
            duplicates += seen[static_cast<std::size_t>(id)]++ > 0 ? 1 : 0;
            const auto lsn = r.value.find("\"commit_lsn\":\"");
            commit_lsns.insert(r.value.substr(lsn + 14, r.value.find('"', lsn + 14) - lsn - 14));
        });
    const long peak_kb = fx.daemon().status_kb("VmHWM");
    INFO("daemon log tail:\n"
         << fx.daemon_log().substr(fx.daemon_log().size() > 4000 ? fx.daemon_log().size() - 4000
                                                                 : 0));
    CHECK(n == static_cast<std::size_t>(kRows));
    CHECK(duplicates == 0);
    CHECK(std::count(seen.begin() + 1, seen.end(), 1) == kRows);
    CHECK(commit_lsns.size() == 1);
    CHECK(fx.wait_for_log("(spilled to disk)"));
    // Bounded: the 16 MB buffer, librdkafka's 64 MB queue and the process itself; the
    // transaction alone is far larger (about 280 MB of events, 40 MB of pgoutput messages).
    WARN("daemon peak RSS for one million rows: " << peak_kb / 1024 << " MB");
    CHECK(peak_kb > 0);
    CHECK(peak_kb < 300L * 1024);
}

TEST_CASE("streaming off: protocol v1, the server sends a large transaction only once committed") {
    CaptureFixture fx("CREATE TABLE {table} (id int8 PRIMARY KEY, pad text)");
    configure_small_memory(fx);
    fx.postgres_extra = "  streaming: false\n";
    fx.start_daemon();
    fx.exec("INSERT INTO {table} SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g");
    fx.exec("BEGIN; INSERT INTO {table} VALUES (6000, 'gone'); ROLLBACK");
    fx.exec("INSERT INTO {table} VALUES (7000, 'last')");
    auto expected = range(1, 5000);
    expected.push_back(7000);
    CHECK(added_ids(fx.read(5001, std::chrono::seconds(30))) == expected);
    CHECK(std::regex_search(fx.daemon_log(), std::regex("pgoutput v1[,)]")));
    CHECK(fx.daemon_log().find("streamed transaction") == std::string::npos);
}

// PostgreSQL (seen on 15.18) streams the changes of a subtransaction that rolls back without a
// Stream Abort for it when those changes were spilled to disk before the slot's confirmed
// position and streamed after it. Here: the first run decodes with a large
// logical_decoding_work_mem, so the open transaction is not streamed and the daemon confirms a
// later commit past its subtransaction's changes; the second run decodes with 64 kB, so the
// server streams the whole transaction, the spilled subtransaction included, and sends a Stream
// Abort only for the nested one.
TEST_CASE("a rolled-back subtransaction streamed without its Stream Abort is not published",
          "[pgmatrix]") {
    CaptureFixture fx("CREATE TABLE {table} (id int8 PRIMARY KEY, note text)");
    fx.start_daemon();
    const std::string t = fx.table();
    PgClient writer(pg_conninfo());
    writer.exec("BEGIN; INSERT INTO " + t +
                " SELECT g, 'kept' FROM generate_series(1, 20000) g; SAVEPOINT s; UPDATE " + t +
                " SET note = 'gone' WHERE id <= 100; INSERT INTO " + t +
                " SELECT g, 'gone' FROM generate_series(100001, 105000) g");
    const std::string before_other = fx.pg().value("SELECT pg_current_wal_insert_lsn()");
    fx.exec("INSERT INTO {table} VALUES (0, 'other')");
    const std::string confirmed = "SELECT confirmed_flush_lsn > '" + before_other +
                                  "' FROM pg_replication_slots WHERE slot_name = '" + fx.slot() +
                                  "'";
    REQUIRE(fx.pg().wait_for(confirmed, [](const std::string& v) { return v == "t"; }));
    REQUIRE(fx.stop_daemon().exit_code == 0);

    configure_small_memory(fx);
    fx.start_daemon();
    writer.exec("SAVEPOINT s2; INSERT INTO " + t +
                " SELECT g, 'gone' FROM generate_series(200001, 205000) g; ROLLBACK TO SAVEPOINT "
                "s; UPDATE " +
                t + " SET note = 'updated' WHERE id % 1000 = 0; COMMIT");
    fx.exec("INSERT INTO {table} VALUES (999999, 'last')");
    const std::string end = fx.pg().value("SELECT pg_current_wal_insert_lsn()");
    REQUIRE(fx.pg().wait_for(
        "SELECT confirmed_flush_lsn >= '" + end +
            "' FROM pg_replication_slots WHERE slot_name = '" + fx.slot() + "'",
        [](const std::string& v) { return v == "t"; }, std::chrono::seconds(60)));
    const std::string log = fx.daemon_log();
    INFO("daemon log tail:\n" << log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
    REQUIRE(log.find("streamed transaction") != std::string::npos);  // it was streamed

    std::map<std::string, long> ops;
    long gone = 0;
    KafkaReader reader(pgcs::testing::brokers());
    reader.visit_to_end(fx.topic(), [&](Record&& r) {
        if (r.value.empty()) {
            return;  // a tombstone
        }
        auto d = parse_json(r.value);
        ++ops[d["op"].GetString()];
        if (r.value.find("\"gone\"") != std::string::npos) {
            ++gone;
        }
    });
    CHECK(gone == 0);
    CHECK(ops["added"] == 20002);  // 'other', the 20,000 kept rows, 'last'
    CHECK(ops["modified"] == 21);  // ids 0, 1000, 2000, ... 20000
    CHECK(ops.size() == 2);
}
