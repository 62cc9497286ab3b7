// Tests for the publisher, from pgoutput bytes through the transaction assembler to a recording
// sink: which records a transaction becomes (tombstones, a TRUNCATE on every partition, a key
// change as two events, messages), the ticket they share and when it is acknowledged, the
// back-pressure wait, and a record too large for Kafka turned into a halt. No server: the
// relation's types are built in, so the catalog is never asked.
#include "core/publish/publisher.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "core/source/stream_failure.hpp"
#include "support/pgoutput_writer.hpp"

namespace {

namespace pg = pgcs::pgoutput;
using pgcs::Lsn;
using pgcs::ack::AckTracker;
using pgcs::publish::Publisher;
using pgcs::sink::EventRefused;
using pgcs::sink::ProduceResult;

// One record the publisher handed over; value "(null)" for a tombstone.
struct Record {
    std::string topic;
    std::string key;
    std::string value;
    std::uint64_t ticket;
    std::int32_t partition;
};

struct RecordingSink : pgcs::sink::EventSink {
    std::vector<Record> records;
    int partitions = 1;
    int full_times = 0;         // answers QueueFull this many times first
    std::size_t too_large = 0;  // a record with a value this long throws EventTooLarge

    ProduceResult produce(std::string_view topic, bool has_key, std::string_view key,
                          std::string_view value, std::uint64_t ticket,
                          std::int32_t partition) override {
        if (full_times > 0) {
            --full_times;
            return ProduceResult::QueueFull;
        }
        if (too_large > 0 && value.size() >= too_large) {
            throw pgcs::sink::EventTooLarge("over message.max.bytes",
                                            pgcs::sink::SizeLimit::Producer,
                                            key.size() + value.size());
        }
        records.push_back({std::string(topic), has_key ? std::string(key) : "(null key)",
                           std::string(value), ticket, partition});
        return ProduceResult::Queued;
    }
    ProduceResult produce_tombstone(std::string_view topic, std::string_view key,
                                    std::uint64_t ticket) override {
        records.push_back(
            {std::string(topic), std::string(key), "(null)", ticket, pgcs::sink::kAnyPartition});
        return ProduceResult::Queued;
    }
    int wait_for_partition_count(std::string_view, const std::function<void()>&) override {
        return partitions;
    }
};

struct Counter : pgcs::publish::EventObserver {
    std::vector<std::string> seen;  // "insert public.t 1"
    void events(std::string_view op, std::string_view table, std::uint64_t count,
                std::size_t) override {
        seen.push_back(std::string(op) + " " + std::string(table) + " " + std::to_string(count));
    }
};

pgcs::snapshot::SnapshotSettings no_snapshots() {
    pgcs::snapshot::SnapshotSettings s;
    s.slot = "pgcs";
    s.progress_schema = "public";
    s.progress_table = "pgchangeset_snapshots";
    return s;
}

// The stream loop's change path without its connections: bytes -> assembler -> publisher.
struct Pipeline {
    pgcs::changeset::TypeRegistry types;
    pgcs::snapshot::SnapshotCoordinator snapshots{no_snapshots(), types, {}};
    Counter observer;
    int waits = 0;
    Publisher publisher;
    pgcs::source::Catalog catalog{nullptr};  // never asked: int4 and text are built in
    RecordingSink sink;
    AckTracker tracker{100};
    pgcs::source::MemoryBudget budget{1 << 20};
    pgcs::source::TransactionAssembler assembler{budget,
                                                 std::filesystem::temp_directory_path().string()};

    explicit Pipeline(Publisher::Settings settings = defaults())
        : publisher(std::move(settings), types, snapshots, observer, [this] { ++waits; }) {
        publisher.set_catalog(catalog);
        publisher.bind(sink, tracker, 100);
        assembler.set_handed_out(100);
        assembler.restart(2);
    }
    static Publisher::Settings defaults() {
        Publisher::Settings s;
        s.topic_prefix = "pg";
        s.messages_topic = "pg.messages";
        return s;
    }

    void feed(const pg::Message& m, Lsn at) {
        const std::vector<std::byte> bytes = pgcs::testing::write(m, {2, false});
        pgcs::source::XLogData x;
        x.start = at;
        x.payload = bytes;
        assembler.feed(x, publisher);
    }
    // A transaction ending at `end` (its Begin and Relation first, its Commit last).
    void transaction(pg::Xid xid, Lsn end, const std::vector<pg::Message>& changes,
                     std::uint32_t oid = 16384, std::string table = "t") {
        feed(pg::Begin{end - 8, 1000, xid}, end - 16);
        feed(pg::Relation{std::nullopt,
                          oid,
                          "public",
                          table,
                          'd',
                          {{true, "id", 23, -1}, {false, "note", 25, -1}}},
             end - 15);
        Lsn at = end - 14;
        for (const auto& m : changes) {
            feed(m, at++);
        }
        feed(pg::Commit{0, end - 8, end, 1000}, end);
    }
    void deliver_all() {
        for (const auto& r : sink.records) {
            tracker.on_delivered(r.ticket);
        }
    }
};

pg::Insert insert(std::string_view id, std::string_view note, std::uint32_t oid = 16384) {
    return pg::Insert{std::nullopt, oid, {{'t', id}, {'t', note}}};
}

}  // namespace

TEST_CASE("a transaction's events share one ticket, acknowledged once Kafka has them all") {
    Pipeline p;
    p.transaction(7, 300, {insert("1", "a"), insert("2", "b")});
    REQUIRE(p.sink.records.size() == 2);
    CHECK(p.sink.records[0].topic == "pg.public.t");
    CHECK(p.sink.records[0].key == R"({"id":1})");
    CHECK(p.sink.records[0].ticket == p.sink.records[1].ticket);
    CHECK(p.sink.records[0].value.find(R"("op":"added")") != std::string::npos);
    CHECK(p.observer.seen == std::vector<std::string>{"added public.t 1", "added public.t 1"});
    CHECK(p.publisher.events_published() == 2);

    p.tracker.on_delivered(p.sink.records[0].ticket);
    CHECK(p.tracker.flush_lsn() == 100);  // one of two: not yet
    p.tracker.on_delivered(p.sink.records[1].ticket);
    CHECK(p.tracker.flush_lsn() == 300);
}

TEST_CASE("each event of a transaction takes the next seq") {
    Pipeline p;
    p.transaction(7, 300, {insert("1", "a"), insert("2", "b"), insert("3", "c")});
    REQUIRE(p.sink.records.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(p.sink.records[i].value.find("\"seq\":" + std::to_string(i)) != std::string::npos);
    }
}

TEST_CASE("a deleted event is followed by its tombstone under the same ticket") {
    Pipeline p;
    p.transaction(7, 300, {pg::Delete{std::nullopt, 16384, 'K', {{'t', "1"}, {'n', ""}}}});
    REQUIRE(p.sink.records.size() == 2);
    CHECK(p.sink.records[0].value.find(R"("op":"deleted")") != std::string::npos);
    CHECK(p.sink.records[1].value == "(null)");
    CHECK(p.sink.records[1].key == R"({"id":1})");
    CHECK(p.sink.records[1].ticket == p.sink.records[0].ticket);
    p.tracker.on_delivered(p.sink.records[0].ticket);
    CHECK(p.tracker.flush_lsn() == 100);  // the tombstone counts too
    p.tracker.on_delivered(p.sink.records[1].ticket);
    CHECK(p.tracker.flush_lsn() == 300);
}

TEST_CASE("without kafka.tombstones a deleted event goes alone") {
    Publisher::Settings s = Pipeline::defaults();
    s.tombstones = false;
    Pipeline p(s);
    p.transaction(7, 300, {pg::Delete{std::nullopt, 16384, 'K', {{'t', "1"}, {'n', ""}}}});
    REQUIRE(p.sink.records.size() == 1);
    CHECK(p.sink.records[0].value.find(R"("op":"deleted")") != std::string::npos);
}

TEST_CASE("an update that changes the key becomes deleted, its tombstone, then added") {
    Pipeline p;
    p.transaction(
        7, 300,
        {pg::Update{std::nullopt, 16384, 'K', {{'t', "1"}, {'n', ""}}, {{'t', "2"}, {'t', "x"}}}});
    REQUIRE(p.sink.records.size() == 3);
    CHECK(p.sink.records[0].key == R"({"id":1})");
    CHECK(p.sink.records[0].value.find(R"("op":"deleted")") != std::string::npos);
    CHECK(p.sink.records[1].value == "(null)");
    CHECK(p.sink.records[2].key == R"({"id":2})");
    CHECK(p.sink.records[2].value.find(R"("op":"added")") != std::string::npos);
}

TEST_CASE("a TRUNCATE goes to every partition of the table's topic, each with its own seq") {
    Pipeline p;
    p.sink.partitions = 3;
    p.transaction(7, 300, {pg::Truncate{std::nullopt, 0, {16384}}});
    REQUIRE(p.sink.records.size() == 3);
    for (int i = 0; i < 3; ++i) {
        CHECK(p.sink.records[i].partition == i);
        CHECK(p.sink.records[i].key == "(null key)");
        CHECK(p.sink.records[i].value.find("\"seq\":" + std::to_string(i)) != std::string::npos);
    }
}

TEST_CASE("the snapshot progress table's changes are never published") {
    Pipeline p;
    p.transaction(7, 300, {insert("1", "a", 16390)}, 16390, "pgchangeset_snapshots");
    CHECK(p.sink.records.empty());
    CHECK(p.tracker.flush_lsn() == 300);  // an empty transaction: nothing to wait for
}

TEST_CASE("messages go to the messages topic when postgres.messages is on, heartbeats never") {
    Publisher::Settings s = Pipeline::defaults();
    s.publish_messages = true;
    Pipeline p(s);
    p.transaction(7, 300,
                  {pg::LogicalMessage{std::nullopt, true, 290, "pgchangeset.heartbeat", ""},
                   pg::LogicalMessage{std::nullopt, true, 291, "app", "hello"}});
    REQUIRE(p.sink.records.size() == 1);
    CHECK(p.sink.records[0].topic == "pg.messages");
    CHECK(p.sink.records[0].value.find("hello") != std::string::npos);
    CHECK(p.observer.seen == std::vector<std::string>{"message (messages) 1"});

    // Non-transactional: its own ticket, at once.
    p.feed(pg::LogicalMessage{std::nullopt, false, 400, "app", "now"}, 400);
    REQUIRE(p.sink.records.size() == 2);
    CHECK(p.sink.records[1].ticket != p.sink.records[0].ticket);

    Pipeline off;  // postgres.messages off
    off.transaction(7, 300, {pg::LogicalMessage{std::nullopt, true, 291, "app", "hello"}});
    CHECK(off.sink.records.empty());
}

TEST_CASE("a full queue is waited out, then the record is produced") {
    Pipeline p;
    p.sink.full_times = 3;
    p.transaction(7, 300, {insert("1", "a")});
    CHECK(p.waits == 3);
    CHECK(p.sink.records.size() == 1);
}

TEST_CASE("a record too large halts with its table and its transaction's end, ticket abandoned") {
    Pipeline p;
    p.sink.too_large = 1000;
    p.transaction(7, 300, {insert("1", "a")});  // small: published
    try {
        p.transaction(8, 500, {insert("2", std::string(2000, 'x'))});
        FAIL("no EventRefused");
    } catch (const EventRefused& e) {
        CHECK(e.info().table == "public.t");
        CHECK(e.info().topic == "pg.public.t");
        CHECK(e.info().end_lsn == 500);
        CHECK(e.info().key == R"({"id":2})");
    }
    p.deliver_all();
    CHECK(p.tracker.flush_lsn() == 300);  // the refused transaction is never acknowledged
    CHECK(p.publisher.table_of_topic("pg.messages") == "(messages)");
}

TEST_CASE("a change of a table no Relation described is a stream failure, not a crash") {
    Pipeline p;
    p.feed(pg::Begin{292, 1000, 7}, 284);
    p.feed(insert("1", "a", 99999), 290);
    CHECK_THROWS(p.feed(pg::Commit{0, 292, 300, 1000}, 300));
    CHECK(p.sink.records.empty());
    CHECK(p.tracker.flush_lsn() == 100);  // abandoned: sent again after a reconnect
    CHECK(p.tracker.pending_transactions() == 0);
}
