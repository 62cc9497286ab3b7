// Tests for the transaction assembler, from pgoutput bytes: plain and streamed transactions
// interleaved, a subtransaction's abort, the skip rule after a reconnect, non-transactional
// messages, and framing the stream must never break.
#include "core/source/transaction_assembler.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/source/stream_failure.hpp"
#include "support/pgoutput_writer.hpp"

namespace {

namespace pg = pgcs::pgoutput;
using pgcs::Lsn;
using pgcs::source::CommittedTransaction;
using pgcs::source::MemoryBudget;
using pgcs::source::StreamFailure;
using pgcs::source::TransactionAssembler;
using pgcs::source::XLogData;

// What the assembler handed out, one line each: "txn 7 @300 [I:7 R:7]", "skip 7 @300",
// "relation 16384", "message hello".
struct Recorder : pgcs::source::TransactionHandler {
    std::vector<std::string> seen;
    bool fail_next = false;

    void on_transaction(const CommittedTransaction& txn) override {
        if (fail_next) {
            fail_next = false;
            throw std::runtime_error("Kafka refused it");
        }
        std::string line = std::string(txn.streamed ? "streamed " : "txn ") +
                           std::to_string(txn.xid) + " @" + std::to_string(txn.end_lsn) + " [";
        bool first = true;
        txn.replay([&](const pgcs::source::TransactionBuffer::Entry& e) {
            const pg::Message m = pg::decode(e.bytes, txn.decode_options());
            line += first ? "" : " ";
            first = false;
            line += static_cast<char>(e.bytes[0]);
            if (const auto* ins = std::get_if<pg::Insert>(&m)) {
                line += ":" + std::string(ins->new_tuple.at(0).data);
            } else {
                line += ":" + std::to_string(e.xid);
            }
        });
        seen.push_back(line + "]");
    }
    void on_skipped(pg::Xid xid, Lsn end_lsn) override {
        seen.push_back("skip " + std::to_string(xid) + " @" + std::to_string(end_lsn));
    }
    void on_aborted(pg::Xid xid, std::size_t messages) override {
        seen.push_back("abort " + std::to_string(xid) + " (" + std::to_string(messages) + ")");
    }
    void on_relation(const pg::Relation& r) override {
        seen.push_back("relation " + std::to_string(r.oid));
    }
    void on_message(const pg::LogicalMessage& m, std::int64_t) override {
        seen.push_back("message " + std::string(m.content));
    }
    void on_unreported_subtransactions(pg::Xid xid,
                                       const pgcs::source::SubtransactionVerdict& v) override {
        seen.push_back("unreported " + std::to_string(xid) + ": " +
                       std::to_string(v.aborted.size()) + " aborted, " +
                       std::to_string(v.unknown.size()) + " unknown");
    }
};

// The server's answers, given by the test: which subxids aborted, which it no longer knows.
struct FixedStatus : pgcs::source::SubtransactionStatus {
    std::set<pg::Xid> aborted, unknown;
    std::vector<std::vector<pg::Xid>> asked;
    pgcs::source::SubtransactionVerdict check(const std::vector<pg::Xid>& subxids) override {
        asked.push_back(subxids);
        pgcs::source::SubtransactionVerdict v;
        for (const pg::Xid x : subxids) {
            if (aborted.contains(x)) {
                v.aborted.push_back(x);
            } else if (unknown.contains(x)) {
                v.unknown.push_back(x);
            }
        }
        return v;
    }
};

struct Stream {
    MemoryBudget budget{1 << 20};
    TransactionAssembler assembler{budget, std::filesystem::temp_directory_path().string()};
    Recorder out;
    int proto = 2;

    Stream() { assembler.restart(proto); }

    void feed(const pg::Message& m, Lsn at, bool in_stream = false) {
        const std::vector<std::byte> bytes = pgcs::testing::write(m, {proto, in_stream});
        XLogData x;
        x.start = at;
        x.payload = bytes;
        assembler.feed(x, out);
    }
    void begin(pg::Xid xid, Lsn commit_lsn) {
        feed(pg::Begin{commit_lsn, 1000, xid}, commit_lsn - 8);
    }
    void commit(Lsn commit_lsn, Lsn end_lsn) {
        feed(pg::Commit{0, commit_lsn, end_lsn, 1000}, end_lsn);
    }
    void insert(std::string_view value, Lsn at, std::optional<pg::Xid> xid = std::nullopt) {
        feed(pg::Insert{xid, 16384, {{'t', value}}}, at, xid.has_value());
    }
    // A whole transaction: Begin, one insert, Commit ending at `end`.
    void transaction(pg::Xid xid, std::string_view value, Lsn end) {
        begin(xid, end - 4);
        insert(value, end - 6);
        commit(end - 4, end);
    }
    void start(pg::Xid xid, bool first) { feed(pg::StreamStart{xid, first}, 0); }
    void stop() { feed(pg::StreamStop{}, 0); }
    void stream_commit(pg::Xid xid, Lsn end) {
        feed(pg::StreamCommit{xid, 0, end - 4, end, 1000}, end);
    }
    void stream_abort(pg::Xid xid, pg::Xid subxid) {
        feed(pg::StreamAbort{xid, subxid, {}, {}}, 0);
    }
    pg::Relation relation(std::optional<pg::Xid> xid) {
        return pg::Relation{xid, 16384, "public", "t", 'd', {{true, "id", 23, -1}}};
    }
};

}  // namespace

TEST_CASE("a transaction is handed out at its commit, its messages in WAL order") {
    Stream s;
    s.begin(7, 296);
    CHECK(s.assembler.transaction_open());
    s.feed(s.relation(std::nullopt), 290);
    s.insert("a", 291);
    s.insert("b", 292);
    CHECK(s.out.seen.empty());
    s.commit(296, 300);
    CHECK_FALSE(s.assembler.transaction_open());
    CHECK(s.out.seen == std::vector<std::string>{"txn 7 @300 [R:0 I:a I:b]"});
    CHECK(s.assembler.handed_out() == 300);
}

TEST_CASE("streamed transactions interleave with each other and with plain ones") {
    Stream s;
    s.start(10, true);
    s.insert("10a", 100, 10);
    s.stop();
    CHECK(s.assembler.transaction_open());  // no acknowledgement inside a streamed transaction
    s.start(20, true);
    s.insert("20a", 110, 20);
    s.stop();
    s.transaction(30, "30a", 200);
    s.start(10, false);
    s.insert("10b", 210, 10);
    s.stop();
    s.stream_commit(20, 300);
    CHECK(s.assembler.transaction_open());  // 10 is still open
    s.stream_commit(10, 310);
    CHECK_FALSE(s.assembler.transaction_open());
    CHECK(s.out.seen == std::vector<std::string>{"txn 30 @200 [I:30a]", "streamed 20 @300 [I:20a]",
                                                 "streamed 10 @310 [I:10a I:10b]"});
}

TEST_CASE("an aborted subtransaction loses its changes but not its Relation messages") {
    Stream s;
    s.start(10, true);
    s.insert("top", 100, 10);
    s.feed(s.relation(11), 101, true);
    s.insert("sub", 102, 11);
    s.insert("kept", 103, 12);
    s.stop();
    s.stream_abort(10, 11);
    s.stream_commit(10, 200);
    CHECK(s.out.seen == std::vector<std::string>{"streamed 10 @200 [I:top R:11 I:kept]"});
}

TEST_CASE("subtransactions without a Stream Abort are checked with the server at the commit") {
    Stream s;
    FixedStatus status;
    status.aborted = {12};
    status.unknown = {13};
    s.assembler.set_subtransaction_status(&status);
    s.start(10, true);
    s.insert("top", 100, 10);
    s.insert("reported", 101, 11);
    s.insert("unreported", 102, 12);
    s.insert("unknown", 103, 13);
    s.insert("committed", 104, 14);
    s.insert("unreported again", 105, 12);
    s.stop();
    s.stream_abort(10, 11);
    s.stream_commit(10, 200);
    // Asked once, of the subtransactions with changes and no Stream Abort, not of the top one.
    CHECK(status.asked == std::vector<std::vector<pg::Xid>>{{12, 13, 14}});
    CHECK(s.out.seen == std::vector<std::string>{"unreported 10: 1 aborted, 1 unknown",
                                                 "streamed 10 @200 [I:top I:unknown I:committed]"});
}

TEST_CASE("a streamed transaction with changes of its own only asks the server nothing") {
    Stream s;
    FixedStatus status;
    s.assembler.set_subtransaction_status(&status);
    s.start(10, true);
    s.insert("top", 100, 10);
    s.stop();
    s.stream_commit(10, 200);
    s.transaction(30, "plain", 300);  // plain transactions: the server filtered them itself
    CHECK(status.asked.empty());
    CHECK(s.out.seen ==
          std::vector<std::string>{"streamed 10 @200 [I:top]", "txn 30 @300 [I:plain]"});
}

TEST_CASE("a streamed transaction aborted whole hands out nothing") {
    Stream s;
    s.start(10, true);
    s.insert("gone", 100, 10);
    s.stop();
    s.stream_abort(10, 10);
    CHECK_FALSE(s.assembler.transaction_open());
    s.stream_abort(99, 99);  // never seen (streamed before a reconnect): nothing to do
    CHECK(s.out.seen == std::vector<std::string>{"abort 10 (1)"});
}

TEST_CASE("after a reconnect, transactions already handed out are skipped whole") {
    Stream s;
    s.assembler.set_handed_out(100);  // the slot's confirmed_flush_lsn
    s.transaction(1, "old", 100);     // sent again from the slot's position: already handed out
    s.transaction(2, "a", 200);
    s.start(3, true);
    s.insert("s", 210, 3);
    s.stop();
    s.stream_commit(3, 300);
    // The connection breaks while transaction 4 is half received, and Kafka refuses 5.
    s.begin(4, 396);
    s.insert("half", 395);
    s.assembler.restart(2);
    CHECK_FALSE(s.assembler.transaction_open());
    s.transaction(2, "a", 200);
    s.start(3, true);
    s.insert("s", 210, 3);
    s.stop();
    s.stream_commit(3, 300);
    s.transaction(4, "whole", 400);
    s.out.fail_next = true;
    CHECK_THROWS_WITH(s.transaction(5, "refused", 500), "Kafka refused it");
    CHECK(s.assembler.handed_out() == 400);  // 5 does not count as handed out
    s.assembler.restart(2);
    s.transaction(5, "refused", 500);
    CHECK(s.out.seen == std::vector<std::string>{"skip 1 @100", "txn 2 @200 [I:a]",
                                                 "streamed 3 @300 [I:s]", "skip 2 @200",
                                                 "skip 3 @300", "txn 4 @400 [I:whole]",
                                                 "txn 5 @500 [I:refused]"});
}

TEST_CASE("a skipped transaction's Relation messages still describe the relation") {
    // Kafka already has transactions 1 and 2 (kafka.exactly_once's progress record): the
    // server describes the table once per session, in the first transaction that touches it.
    Stream s;
    s.assembler.set_handed_out(300);
    s.begin(1, 96);
    s.feed(s.relation(std::nullopt), 95);
    s.insert("old", 97);
    s.commit(96, 100);
    s.start(2, true);
    s.feed(s.relation(2), 0, true);
    s.insert("streamed", 210, 2);
    s.stop();
    s.stream_commit(2, 300);
    s.transaction(3, "new", 400);
    CHECK(s.out.seen == std::vector<std::string>{"relation 16384", "skip 1 @100", "relation 16384",
                                                 "skip 2 @300", "txn 3 @400 [I:new]"});
}

TEST_CASE("non-transactional messages and Relations outside transactions go straight out") {
    Stream s;
    s.feed(s.relation(std::nullopt), 50);
    s.feed(pg::LogicalMessage{std::nullopt, false, 60, "app", "hello"}, 60);
    s.transaction(1, "a", 100);
    // Sent again after a reconnect: already handed out.
    s.assembler.restart(2);
    s.feed(pg::LogicalMessage{std::nullopt, false, 60, "app", "hello"}, 60);
    s.feed(pg::LogicalMessage{std::nullopt, false, 120, "app", "later"}, 120);
    CHECK(s.out.seen == std::vector<std::string>{"relation 16384", "message hello",
                                                 "txn 1 @100 [I:a]", "message later"});
}

TEST_CASE("a stream that breaks the framing stops with where it broke") {
    Stream s;
    CHECK_THROWS_AS(s.commit(96, 100), StreamFailure);
    s.assembler.restart(2);
    s.begin(1, 96);
    CHECK_THROWS_WITH(s.begin(2, 196), Catch::Contains("Begin inside transaction 1"));
    s.assembler.restart(2);
    CHECK_THROWS_WITH(s.stop(), Catch::Contains("Stream Stop without Stream Start"));
    CHECK_THROWS_WITH(s.stream_commit(42, 300), Catch::Contains("transaction 42 that was never"));
    s.assembler.restart(2);
    s.begin(1, 96);
    CHECK_THROWS_WITH(s.start(5, true), Catch::Contains("Stream Start inside another transaction"));
    s.assembler.restart(2);
    CHECK_THROWS_WITH(s.insert("outside", 10), Catch::Contains("outside a transaction at 0/A"));
    XLogData empty;
    empty.start = 16;
    CHECK_THROWS_WITH(s.assembler.feed(empty, s.out), "empty XLogData message at 0/10");
    // A streamed change too short to carry its xid.
    s.start(5, true);
    const std::byte truncated[] = {std::byte{'I'}, std::byte{0}};
    XLogData x;
    x.payload = truncated;
    CHECK_THROWS_AS(s.assembler.feed(x, s.out), pg::DecodeError);
    CHECK(s.out.seen.empty());
}
