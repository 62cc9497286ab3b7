// The rules of kafka_refusal.hpp.
#include "core/sink/kafka_refusal.hpp"

#include <array>

namespace pgcs::sink {

namespace {

bool has(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

// librdkafka before 2.6.1 sends a wrong SCRAM client-final nonce, which Apache Kafka 4.x brokers
// refuse as invalid credentials (librdkafka PR #4895).
constexpr int kScramFixed = 0x020601ff;

std::string version_text(int v) {
    return std::to_string((v >> 24) & 0xff) + "." + std::to_string((v >> 16) & 0xff) + "." +
           std::to_string((v >> 8) & 0xff);
}

}  // namespace

std::string kafka_refusal_advice(rd_kafka_resp_err_t err, std::string_view reason,
                                 int librdkafka_version) {
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
        std::string advice =
            "Kafka refused the SASL login: check sasl.mechanisms, sasl.username and the password "
            "(kafka.sasl_password_file, or sasl.password in kafka.properties)";
        if (has(reason, "SCRAM") && librdkafka_version < kScramFixed) {
            advice += ". Note: this librdkafka (" + version_text(librdkafka_version) +
                      ") cannot log in with SCRAM to Apache Kafka 4.x brokers, which refuse its "
                      "nonce as invalid credentials (fixed in librdkafka 2.6.1); against such "
                      "brokers use sasl.mechanisms: PLAIN over SASL_SSL, or a newer librdkafka";
        }
        return advice;
    }
    if (err != RD_KAFKA_RESP_ERR__SSL && err != RD_KAFKA_RESP_ERR__TRANSPORT &&
        err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        return "";
    }
    if (has(reason, "certificate verify failed")) {
        return "the broker's certificate does not verify: point ssl.ca.location at the CA that "
               "signed it, and connect with a name the certificate lists (kafka.brokers)";
    }
    static constexpr std::array kClientCertAlerts{
        "alert bad certificate",     "alert certificate required", "alert unknown ca",
        "alert certificate expired", "alert certificate revoked",  "alert certificate unknown"};
    for (const char* alert : kClientCertAlerts) {
        if (has(reason, alert)) {
            return "the broker refused this client's certificate: set ssl.certificate.location "
                   "and ssl.key.location to a certificate signed by a CA the broker trusts, "
                   "valid today";
        }
    }
    return "";
}

}  // namespace pgcs::sink
