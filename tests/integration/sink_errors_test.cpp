// `pgchangeset sink` never skips what it cannot apply: a record that is not a contract 2 event
// stops it with exit 1, naming the record, and its offset is not stored at the target.
#include <librdkafka/rdkafka.h>

#include "support/capture_fixture.hpp"
#include "support/kafka_client.hpp"
#include "support/scratch_database.hpp"

using pgcs::testing::bin_dir;
using pgcs::testing::brokers;
using pgcs::testing::CaptureFixture;
using pgcs::testing::DaemonProcess;
using pgcs::testing::pg_conninfo;
using pgcs::testing::PgClient;
using pgcs::testing::ScratchDatabase;
using pgcs::testing::write_temp_file;

namespace {

void produce(const std::string& topic, const std::string& key, const std::string& value) {
    const pgcs::testing::KafkaClientPtr client = pgcs::testing::test_kafka_client(brokers());
    rd_kafka_t* rk = client.get();
    REQUIRE(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                              RD_KAFKA_V_KEY(key.data(), key.size()),
                              RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(rd_kafka_flush(rk, 15000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

}  // namespace

TEST_CASE("sink_stops_at_a_record_that_is_not_an_event", "[sink]") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    const ScratchDatabase db("sink_" + fx.table());
    fx.extra_config = "sink:\n  conninfo: \"" + db.conninfo() + "\"\n";
    const std::string config = write_temp_file("config.yaml", fx.config_text());
    produce(fx.topic(), "{\"id\":1}", "garbage, not JSON");

    const std::string log = "/tmp/pgcs-test-sink-" + fx.table() + ".log";
    DaemonProcess sink({bin_dir() + "/pgchangeset", "sink", "--config", config}, log);
    const auto result = sink.wait(std::chrono::seconds(60));
    INFO(result.log);
    CHECK(result.exit_code == 1);
    const std::string text = pgcs::testing::read_file(log);
    CHECK_THAT(text, Catch::Contains("the record " + fx.topic() + "["));
    CHECK_THAT(text, Catch::Contains("]@0 cannot be applied: the value is not a JSON object"));
    PgClient target(db.conninfo());
    CHECK(target.value("SELECT count(*) FROM pgchangeset_sink.offsets") == "0");
}
