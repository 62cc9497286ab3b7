// Kafka ACLs for tests, through librdkafka's admin API: deny writes to a topic prefix so the
// daemon meets a real TOPIC_AUTHORIZATION_FAILED from a broker that enforces ACLs.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace pgcs::testing {

class KafkaAclAdmin {
  public:
    explicit KafkaAclAdmin(const std::string& brokers) {
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        char err[512];
        if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error(err);
        }
        rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err));
        if (!rk_) {
            throw std::runtime_error(std::string("test admin client: ") + err);
        }
    }

    // Denies WRITE on every topic whose name starts with `prefix` to User:ANONYMOUS (the
    // principal of a PLAINTEXT listener).
    void deny_write_prefix(const std::string& prefix) { apply(prefix, true); }
    void remove_deny_write_prefix(const std::string& prefix) { apply(prefix, false); }

  private:
    struct Deleter {
        void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
    };

    void apply(const std::string& prefix, bool create) {
        char err[512];
        rd_kafka_queue_t* queue = rd_kafka_queue_new(rk_.get());
        rd_kafka_AdminOptions_t* options =
            rd_kafka_AdminOptions_new(rk_.get(), RD_KAFKA_ADMIN_OP_ANY);
        rd_kafka_AdminOptions_set_request_timeout(options, 10000, err, sizeof err);
        std::string failure;
        if (create) {
            rd_kafka_AclBinding_t* binding = rd_kafka_AclBinding_new(
                RD_KAFKA_RESOURCE_TOPIC, prefix.c_str(), RD_KAFKA_RESOURCE_PATTERN_PREFIXED,
                "User:ANONYMOUS", "*", RD_KAFKA_ACL_OPERATION_WRITE,
                RD_KAFKA_ACL_PERMISSION_TYPE_DENY, err, sizeof err);
            if (!binding) {
                failure = err;
            } else {
                rd_kafka_CreateAcls(rk_.get(), &binding, 1, options, queue);
                failure = wait(queue, RD_KAFKA_EVENT_CREATEACLS_RESULT);
                rd_kafka_AclBinding_destroy(binding);
            }
        } else {
            rd_kafka_AclBindingFilter_t* filter = rd_kafka_AclBindingFilter_new(
                RD_KAFKA_RESOURCE_TOPIC, prefix.c_str(), RD_KAFKA_RESOURCE_PATTERN_PREFIXED,
                "User:ANONYMOUS", "*", RD_KAFKA_ACL_OPERATION_WRITE,
                RD_KAFKA_ACL_PERMISSION_TYPE_DENY, err, sizeof err);
            if (!filter) {
                failure = err;
            } else {
                rd_kafka_DeleteAcls(rk_.get(), &filter, 1, options, queue);
                failure = wait(queue, RD_KAFKA_EVENT_DELETEACLS_RESULT);
                rd_kafka_AclBinding_destroy(filter);
            }
        }
        rd_kafka_AdminOptions_destroy(options);
        rd_kafka_queue_destroy(queue);
        if (!failure.empty()) {
            throw std::runtime_error("Kafka ACL request failed: " + failure);
        }
    }

    // Returns "" on success, else the error text.
    static std::string wait(rd_kafka_queue_t* queue, rd_kafka_event_type_t expected) {
        rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 15000);
        if (!event) {
            return "no answer within 15 s";
        }
        std::string failure;
        if (rd_kafka_event_type(event) != expected) {
            failure = "unexpected admin event";
        } else if (rd_kafka_event_error(event)) {
            failure = rd_kafka_event_error_string(event);
        } else if (expected == RD_KAFKA_EVENT_CREATEACLS_RESULT) {
            size_t n = 0;
            const rd_kafka_acl_result_t** results =
                rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(event), &n);
            for (size_t i = 0; i < n; ++i) {
                if (const rd_kafka_error_t* e = rd_kafka_acl_result_error(results[i])) {
                    failure = rd_kafka_error_string(e);
                }
            }
        }
        rd_kafka_event_destroy(event);
        return failure;
    }

    std::unique_ptr<rd_kafka_t, Deleter> rk_;
};

}  // namespace pgcs::testing
