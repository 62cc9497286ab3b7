// librdkafka's mock cluster in process, for unit tests of the Kafka stages (no broker).
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

namespace pgcs::testing {

// A mock cluster of one broker; its topics are created with `rd_kafka_mock_topic_create` or
// on a client's first metadata request for them.
class MockCluster {
  public:
    MockCluster() {
        char err[512];
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        // Only the mock cluster's owner: it connects nowhere (and would say so).
        REQUIRE(rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) == RD_KAFKA_CONF_OK);
        owner_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err));
        REQUIRE(owner_);
        cluster_ = rd_kafka_mock_cluster_new(owner_.get(), 1);
        REQUIRE(cluster_ != nullptr);
    }
    ~MockCluster() { rd_kafka_mock_cluster_destroy(cluster_); }
    MockCluster(const MockCluster&) = delete;
    MockCluster& operator=(const MockCluster&) = delete;

    std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
    rd_kafka_mock_cluster_t* get() { return cluster_; }

  private:
    struct Destroy {
        void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
    };
    std::unique_ptr<rd_kafka_t, Destroy> owner_;
    rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

}  // namespace pgcs::testing
