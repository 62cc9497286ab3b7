// The halt on an event too large: which limit it hit, and what the log tells the operator.
#include "core/sink/halt_info.hpp"

#include <catch2/catch.hpp>

using pgcs::sink::halt_advice;
using pgcs::sink::halt_info;
using pgcs::sink::halt_summary;
using pgcs::sink::SizeLimit;

TEST_CASE("halt info: the broker's limit passes on a retry, the producer's need a restart") {
    const auto broker = halt_info(SizeLimit::Broker, "app.public.t", true, "{\"id\":1}", 2000, "x");
    CHECK(broker.reason == "broker_message_size");
    CHECK_FALSE(broker.restart_needed);
    CHECK(broker.topic == "app.public.t");
    CHECK(broker.key == "{\"id\":1}");
    CHECK(broker.bytes == 2000);
    CHECK(broker.what == "x");
    const auto producer = halt_info(SizeLimit::Producer, "t", true, "k", 1, "");
    CHECK(producer.reason == "producer_message_max_bytes");
    CHECK(producer.restart_needed);
    const auto queue = halt_info(SizeLimit::Queue, "t", false, "ignored", 1, "");
    CHECK(queue.reason == "producer_queue_size");
    CHECK(queue.restart_needed);
    CHECK(queue.key.empty());
}

TEST_CASE("halt info: a long key is kept to its first 256 bytes") {
    const std::string key(1000, 'k');
    CHECK(halt_info(SizeLimit::Broker, "t", true, key, 1, "").key == std::string(256, 'k'));
}

TEST_CASE("halt info: the log names the event and the setting to raise") {
    auto h = halt_info(SizeLimit::Broker, "app.public.t", false, "", 2000, "");
    h.table = "public.t";
    h.end_lsn = 0x1000002A0;
    const std::string summary = halt_summary(h, 60000);
    CHECK_THAT(summary, Catch::Contains("2000 bytes on public.t (key null") &&
                            Catch::Contains("ending at 1/2A0") &&
                            Catch::Contains("every 60000 ms"));
    CHECK_THAT(halt_advice(h), Catch::StartsWith("what to do: raise the topic's max.message.bytes "
                                                 "above 2000 bytes") &&
                                   Catch::Contains("--entity-name app.public.t"));
    h = halt_info(SizeLimit::Producer, "app.public.t", false, "", 2000, "");
    CHECK_THAT(halt_advice(h),
               Catch::StartsWith("what to do: raise kafka.properties message.max.bytes above "
                                 "2000 bytes, then restart"));
    h = halt_info(SizeLimit::Queue, "app.public.t", false, "", 5000, "");
    CHECK_THAT(halt_advice(h), Catch::Contains("queue.buffering.max.kbytes above 5 KiB"));
}

TEST_CASE("a failed delivery: the error and its topic, what to do, a halt only for its size") {
    pgcs::sink::DeliveryReport r{
        7, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "app.public.t", 0, -1, "{\"id\":1}", 3000};
    const auto big = pgcs::sink::delivery_failure(r);
    CHECK_THAT(big.what, Catch::StartsWith("MSG_SIZE_TOO_LARGE ("));
    CHECK_THAT(big.what, Catch::Contains("on topic app.public.t"));
    REQUIRE(big.halt);
    CHECK(big.halt->reason == "broker_message_size");
    CHECK(big.halt->key == "{\"id\":1}");
    CHECK(big.halt->bytes == 3000);
    CHECK_THAT(big.halt->what,
               Catch::StartsWith("Kafka refused an event of 3000 bytes for topic 'app.public.t'"));
    CHECK(big.halt->end_lsn == 0);  // the stream loop's to fill in, from the ticket

    r.error = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
    const auto denied = pgcs::sink::delivery_failure(r);
    CHECK_FALSE(denied.halt);
    CHECK_THAT(denied.what, Catch::StartsWith("TOPIC_AUTHORIZATION_FAILED ("));
    CHECK_THAT(denied.what, Catch::Contains("; "));  // what to do follows
}
