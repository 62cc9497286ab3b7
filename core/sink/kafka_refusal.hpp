// Kafka refusing this client for good: the brokers reject its SASL credentials or its client
// certificate, or their certificate does not verify against the CA the client trusts. The
// operator must change kafka.properties (or the certificates); reconnecting only repeats the
// refusal, so the daemon stops with exit 2 and this advice. Read from librdkafka's error events
// (code and reason; the reasons are librdkafka's and OpenSSL's English text).
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <string_view>

namespace pgcs::sink {

// What to do about error event `err` with `reason`, "" when it is no refusal (a broker down, a
// timeout: librdkafka reconnects). `librdkafka_version` is rd_kafka_version()'s form (0xMMmmrrxx).
std::string kafka_refusal_advice(rd_kafka_resp_err_t err, std::string_view reason,
                                 int librdkafka_version = rd_kafka_version());

}  // namespace pgcs::sink
