// A two-broker Apache Kafka cluster of the test's own (deploy/kafka/kafka-start.sh, node 1 the
// KRaft controller and a broker, node 2 a broker joining it), for leader changes: topics get
// two replicas, and leadership moves back to a returning broker within seconds.
#pragma once

#include <librdkafka/rdkafka.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <string>

#include "support/test_env.hpp"

namespace pgcs::testing {

class KafkaPair {
  public:
    KafkaPair() : dir_("/tmp/pgcs-test-kafka-" + unique_suffix()) {
        run("mkdir -p " + dir_);
        start(1);
        start(2);
    }
    ~KafkaPair() {
        for (int node : {2, 1}) {
            run(env(node) + " bash " PGCS_SOURCE_DIR
                            "/deploy/kafka/kafka-stop.sh --destroy >/dev/null 2>&1");
        }
        // dir_ keeps the brokers' logs (kafka.log, *.err); their data is gone.
    }
    KafkaPair(const KafkaPair&) = delete;
    KafkaPair& operator=(const KafkaPair&) = delete;

    // Both brokers: "127.0.0.1:P1,127.0.0.1:P2".
    std::string bootstrap() const { return address(1) + "," + address(2); }

    // Starts node 1 or 2 (again): waits until it answers.
    void start(int node) {
        INFO("see " << dir(node) << ".err and " << dir(node) << "/kafka/kafka.log");
        REQUIRE(run(env(node) +
                    " bash " PGCS_SOURCE_DIR "/deploy/kafka/kafka-start.sh >/dev/null 2>>" +
                    dir(node) + ".err") == 0);
    }
    // SIGKILL (a crash) or SIGTERM (a controlled shutdown that hands leadership over) of node 2:
    // node 1 holds the quorum and stays.
    void stop_second(int sig) {
        if (sig == SIGKILL) {
            run("kill -9 \"$(cat " + dir(2) + "/kafka/kafka.pid)\"; rm -f " + dir(2) +
                "/kafka/kafka.pid " + dir(2) + "/kafka/bootstrap");
        } else {
            REQUIRE(run(env(2) + " bash " PGCS_SOURCE_DIR "/deploy/kafka/kafka-stop.sh") == 0);
        }
    }

    // Partition -> leader node id (-1: none) as the cluster reports it now.
    std::map<int, int> leaders(const std::string& topic) const {
        std::map<int, int> out;
        char err[256];
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", address(1).c_str(), err, sizeof err);
        rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        REQUIRE(rk != nullptr);
        rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
        const rd_kafka_metadata_t* md = nullptr;
        if (rd_kafka_metadata(rk, 0, t, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            for (int i = 0; i < md->topic_cnt; ++i) {
                for (int p = 0; p < md->topics[i].partition_cnt; ++p) {
                    out[md->topics[i].partitions[p].id] = md->topics[i].partitions[p].leader;
                }
            }
            rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(t);
        rd_kafka_destroy(rk);
        return out;
    }

  private:
    std::string dir(int node) const { return dir_ + "/node" + std::to_string(node); }
    std::string env(int node) const {
        // Ports away from the suite's own broker (59092); taken ones make the script move on.
        std::string e = "PGCS_RUNTIME_DIR=" + dir(node) +
                        " PGCS_KAFKA_PORT=" + std::to_string(node == 1 ? 59292 : 59392) +
                        " PGCS_KAFKA_HEAP_OPTS='-Xms128m -Xmx384m'"
                        " PGCS_KAFKA_PROPERTIES='default.replication.factor=2\n"
                        "auto.leader.rebalance.enable=true\n"
                        "leader.imbalance.check.interval.seconds=3\n"
                        "leader.imbalance.per.broker.percentage=0\n"
                        "broker.session.timeout.ms=4000\n"
                        "broker.heartbeat.interval.ms=1000'";
        if (node == 2) {
            e += " PGCS_KAFKA_JOIN=" + dir(1) + " PGCS_KAFKA_NODE_ID=2";
        }
        return e;
    }
    std::string address(int node) const {
        return read_first_line(dir(node) + "/kafka/bootstrap",
                               "the address of Kafka node " + std::to_string(node));
    }
    static int run(const std::string& command) {
        const int rc = std::system(command.c_str());
        return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    }

    std::string dir_;
};

}  // namespace pgcs::testing
