// A plain librdkafka client of the tests' own (a producer handle, also used for the admin API),
// connected to `brokers`, owned; REQUIREs that it could be made.
#pragma once

#include <librdkafka/rdkafka.h>
#include <catch2/catch.hpp>

#include <memory>
#include <string>

namespace pgcs::testing {

struct KafkaClientDeleter {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaClientPtr = std::unique_ptr<rd_kafka_t, KafkaClientDeleter>;

inline KafkaClientPtr test_kafka_client(const std::string& brokers) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    REQUIRE(rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err) ==
            RD_KAFKA_CONF_OK);
    KafkaClientPtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err));
    INFO(err);
    REQUIRE(rk != nullptr);
    return rk;
}

}  // namespace pgcs::testing
