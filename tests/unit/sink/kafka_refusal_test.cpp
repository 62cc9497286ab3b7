// Which librdkafka error events are refusals the operator must fix (exit 2) and what the
// advice says; the reasons are the ones librdkafka 2.0.2 gave against the suite's Apache Kafka
// (tests/tls/kafka_tls_test.sh).
#include "core/sink/kafka_refusal.hpp"

#include <catch2/catch.hpp>

using pgcs::sink::kafka_refusal_advice;

TEST_CASE("wrong SASL credentials are a refusal and SCRAM with an old librdkafka says why") {
    const char* reason =
        "sasl_ssl://127.0.0.1:59094/bootstrap: SASL authentication error: Authentication failed "
        "during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512";
    CHECK_THAT(kafka_refusal_advice(RD_KAFKA_RESP_ERR__AUTHENTICATION, reason, 0x020002ff),
               Catch::Contains("sasl.username") && Catch::Contains("fixed in librdkafka 2.6.1"));
    CHECK_THAT(kafka_refusal_advice(RD_KAFKA_RESP_ERR__AUTHENTICATION, reason, 0x020601ff),
               !Catch::Contains("2.6.1"));
    CHECK_THAT(
        kafka_refusal_advice(RD_KAFKA_RESP_ERR__AUTHENTICATION,
                             "Authentication failed ... with SASL mechanism PLAIN", 0x020002ff),
        Catch::Contains("kafka.sasl_password_file") && !Catch::Contains("2.6.1"));
}

TEST_CASE("certificates that do not verify, or that the broker refuses, are refusals") {
    CHECK_THAT(kafka_refusal_advice(RD_KAFKA_RESP_ERR__SSL,
                                    "ssl://127.0.0.1:1/bootstrap: SSL handshake failed: "
                                    "error:0A000086:SSL routines::certificate verify failed"),
               Catch::Contains("ssl.ca.location"));
    CHECK_THAT(kafka_refusal_advice(RD_KAFKA_RESP_ERR__TRANSPORT,
                                    "Receive failed: error:0A000412:SSL routines::sslv3 alert "
                                    "bad certificate: SSL alert number 42"),
               Catch::Contains("ssl.certificate.location"));
}

TEST_CASE("a broker that is down or slow is no refusal: librdkafka reconnects") {
    CHECK(kafka_refusal_advice(RD_KAFKA_RESP_ERR__TRANSPORT,
                               "Connect to ipv4#127.0.0.1:1 failed: Connection refused") == "");
    CHECK(kafka_refusal_advice(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, "1/1 brokers are down") == "");
    CHECK(kafka_refusal_advice(RD_KAFKA_RESP_ERR__TIMED_OUT, "certificate verify failed") == "");
}
