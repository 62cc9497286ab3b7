// Kafka transactions and the progress topic against librdkafka's mock cluster, in process:
// a committed transaction's progress record is read back as the slot's last commit, other
// slots' records (more than one read window of them) do not hide it, an empty topic means no
// progress, and a topic the cluster cannot create on request is made on first use. (The mock
// cluster neither hides aborted records from read_committed consumers nor fences an older producer:
// both are proven against Apache Kafka in tests/integration/exactly_once_test.cpp.)
#include "core/sink/kafka_transactions.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "core/sink/exactly_once_batch.hpp"
#include "core/sink/progress_topic.hpp"
#include "tests/support/mock_cluster.hpp"

using namespace pgcs;
using pgcs::testing::MockCluster;

namespace {

struct TxnSink {
    TxnSink(const std::string& brokers, const std::string& id)
        : settings{brokers, {}, id},
          sink(settings, [this](const sink::DeliveryReport& r) { delivered[r.ticket] = r.error; }),
          txns(sink) {}
    sink::SinkSettings settings;
    std::map<std::uint64_t, rd_kafka_resp_err_t> delivered;
    sink::KafkaSink sink;
    sink::KafkaTransactions txns;
};

}  // namespace

TEST_CASE("progress record: the value names the slot and the commit LSN, and parses back") {
    const std::string v = sink::progress_value("pgcs", "7312", 0x16B3748);
    CHECK(v == R"({"slot":"pgcs","system":"7312","commit_lsn":"0/16B3748"})");
    const auto p = sink::parse_progress(v);
    REQUIRE(p);
    CHECK(p->commit_lsn == Lsn{0x16B3748});
    CHECK(p->system == "7312");
    CHECK_FALSE(sink::parse_progress("not json"));
    CHECK_FALSE(sink::parse_progress(R"({"slot":"pgcs","system":"7312"})"));
    CHECK_FALSE(sink::parse_progress(R"({"system":"7312","commit_lsn":"zz"})"));
    CHECK_FALSE(sink::parse_progress(R"({"commit_lsn":"0/1"})"));
}

TEST_CASE("progress topic: the last committed record of the slot, past other slots' records") {
    MockCluster cluster;
    TxnSink t(cluster.bootstraps(), "pgchangeset.app.slot1");
    const sink::ProgressTopic progress(t.settings, "app.progress", "slot1", "7312");
    // (The mock cluster creates a topic at any request naming it.)
    rd_kafka_mock_topic_create(cluster.get(), "app.progress", 1, 1);
    progress.ensure_exists(t.sink, 10000);  // listed: left as it is
    CHECK(t.sink.partition_count("app.progress", 5000).count == 1);
    CHECK_FALSE(progress.read_last(10000));  // a topic without records

    t.txns.init(10000);
    for (Lsn lsn : {Lsn{0x100}, Lsn{0x200}}) {
        t.txns.begin();
        REQUIRE(t.sink.produce("app.public.t", true, R"({"id":1})", "{}", 1) ==
                sink::ProduceResult::Queued);
        REQUIRE(progress.produce(t.sink, lsn, 2) == sink::ProduceResult::Queued);
        t.txns.commit(10000);
    }
    CHECK(t.delivered.at(2) == RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(progress.read_last(10000) == Lsn{0x200});

    // Another pipeline's slot writes 1,000 records after it: more than one read window.
    TxnSink other(cluster.bootstraps(), "pgchangeset.app.slot2");
    const sink::ProgressTopic other_progress(other.settings, "app.progress", "slot2", "7312");
    other.txns.init(10000);
    other.txns.begin();
    for (Lsn lsn = 1; lsn <= 1000; ++lsn) {
        REQUIRE(other_progress.produce(other.sink, lsn, 1) == sink::ProduceResult::Queued);
    }
    other.txns.commit(10000);
    CHECK(other_progress.read_last(10000) == Lsn{1000});
    CHECK(progress.read_last(10000) == Lsn{0x200});

    // The same slot name on another PostgreSQL cluster (another system identifier): its
    // records never count for this one, whose LSNs they do not describe.
    const sink::ProgressTopic stranger(other.settings, "app.progress", "slot1", "9999");
    other.txns.begin();
    REQUIRE(stranger.produce(other.sink, 0x900, 1) == sink::ProduceResult::Queued);
    other.txns.commit(10000);
    CHECK(stranger.read_last(10000) == Lsn{0x900});
    CHECK(progress.read_last(10000) == Lsn{0x200});
}

TEST_CASE("progress topic: made on first use where the cluster takes no CreateTopics") {
    MockCluster cluster;  // no controller: CreateTopics fails, metadata creates topics
    TxnSink t(cluster.bootstraps(), "pgchangeset.app.slot1");
    const sink::ProgressTopic progress(t.settings, "app.progress", "slot1", "7312");
    progress.ensure_exists(t.sink, 3000);
    CHECK(t.sink.partition_count("app.progress", 5000).count > 0);
}

TEST_CASE("exactly-once batch: the slot is acknowledged only once the Kafka transaction commits") {
    MockCluster cluster;
    rd_kafka_mock_topic_create(cluster.get(), "app.progress", 1, 1);
    ack::AckTracker tracker(0x10);
    sink::SinkSettings settings{cluster.bootstraps(), {}, "pgchangeset.app.slot1"};
    sink::KafkaSink ksink(settings, [&](const sink::DeliveryReport& r) {
        if (r.error == RD_KAFKA_RESP_ERR_NO_ERROR) {
            tracker.on_delivered(r.ticket);
        } else {
            tracker.on_failed(r.ticket, rd_kafka_err2str(r.error));
        }
    });
    const sink::ProgressTopic progress(settings, "app.progress", "slot1", "7312");
    sink::ExactlyOnceBatch batch(ksink, progress, {std::chrono::hours(1), 3, 10000});
    CHECK_FALSE(batch.start(10000));  // nothing committed before
    CHECK(batch.committed() == 0);

    // A PostgreSQL transaction with nothing to publish, no Kafka transaction open: done at once.
    const ack::TxnTicket empty = tracker.open_transaction(0x20);
    batch.finished(tracker, empty, 0x20);
    CHECK(tracker.flush_lsn() == 0x20);

    // Two transactions of one event each, delivered but not committed: not acknowledged.
    const auto publish = [&](Lsn end_lsn) {
        const ack::TxnTicket t = tracker.open_transaction(end_lsn);
        batch.before_produce();
        tracker.add_events(t, 1);
        REQUIRE(ksink.produce("app.public.t", true, R"({"id":1})", "{}", t) ==
                sink::ProduceResult::Queued);
        batch.produced(1);
        batch.finished(tracker, t, end_lsn);
    };
    publish(0x30);
    publish(0x40);
    ksink.flush(10000);
    CHECK(tracker.flush_lsn() == 0x20);
    CHECK_FALSE(batch.due(sink::ExactlyOnceBatch::Clock::now()));
    publish(0x50);
    CHECK(batch.due(sink::ExactlyOnceBatch::Clock::now()));  // 3 events: the limit

    batch.commit(tracker, {});
    ksink.poll(0);
    CHECK(tracker.flush_lsn() == 0x50);
    CHECK_FALSE(batch.open());
    CHECK(batch.committed() == 0x50);
    CHECK(progress.read_last(10000) == Lsn{0x50});

    // A stop in the middle: aborted, its transaction never acknowledged.
    publish(0x60);
    batch.abort(tracker);
    ksink.flush(10000);
    CHECK(tracker.flush_lsn() == 0x50);
    CHECK(batch.committed() == 0x50);
    CHECK(progress.read_last(10000) == Lsn{0x50});

    // A daemon started after it reads where Kafka stands.
    sink::KafkaSink next_sink(settings, [](const sink::DeliveryReport&) {});
    sink::ExactlyOnceBatch next(next_sink, progress, {});
    CHECK(next.start(10000) == Lsn{0x50});
    CHECK(next.committed() == 0x50);
}
