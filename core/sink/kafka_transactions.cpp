// Kafka transactions on the sink's producer; see kafka_transactions.hpp.
#include "core/sink/kafka_transactions.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>

namespace pgcs::sink {
namespace {

using ErrorPtr = std::unique_ptr<rd_kafka_error_t, decltype(&rd_kafka_error_destroy)>;

ErrorPtr take(rd_kafka_error_t* e) {
    return {e, &rd_kafka_error_destroy};
}

std::string describe(const rd_kafka_error_t* e) {
    return std::string(rd_kafka_error_name(e)) + " (" + rd_kafka_error_string(e) + ")";
}

// A fatal error: the producer cannot go on.
[[noreturn]] void throw_fatal(const char* during, const rd_kafka_error_t* e) {
    if (is_fencing_error(rd_kafka_error_code(e))) {
        throw TransactionFenced(fenced_explanation(std::string(during) + ": " + describe(e)));
    }
    const rd_kafka_resp_err_t code = rd_kafka_error_code(e);
    std::string remedy = delivery_error_remedy(code);
    if (code == RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT) {
        remedy =
            "set kafka.properties transaction.timeout.ms at or below the brokers' "
            "transaction.max.timeout.ms (15 minutes by default)";
    } else if (code == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
        remedy = "the brokers do not support transactions (Kafka 0.11 or later is needed)";
    }
    throw SinkError(std::string("Kafka transactions failed ") + during + ": " + describe(e) +
                    (remedy.empty() ? std::string() : "; " + remedy));
}

}  // namespace

std::string fenced_explanation(const std::string& detail) {
    return "Kafka fenced this producer (" + detail +
           "): another pgchangeset started with the same transactional.id (the same "
           "kafka.topic_prefix and postgres.slot) and took the stream over; this one stops "
           "without committing or acknowledging anything more";
}

void KafkaTransactions::init(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        ErrorPtr e = take(rd_kafka_init_transactions(
            sink_.handle(), static_cast<int>(std::max<std::int64_t>(left.count(), 1))));
        if (!e) {
            return;
        }
        if (rd_kafka_error_is_fatal(e.get()) || !rd_kafka_error_is_retriable(e.get())) {
            throw_fatal("at start (InitProducerId)", e.get());
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            throw SinkError("Kafka's transaction coordinator did not answer within " +
                            std::to_string(timeout_ms / 1000) + " s: " + describe(e.get()) +
                            ". Check that the brokers are reachable and that their "
                            "transaction.state.log topic can be written (a single-broker "
                            "cluster needs transaction.state.log.replication.factor=1 and "
                            "transaction.state.log.min.isr=1)");
        }
    }
}

void KafkaTransactions::begin() {
    if (open_) {
        return;
    }
    ErrorPtr e = take(rd_kafka_begin_transaction(sink_.handle()));
    if (e) {
        throw_fatal("when beginning a transaction", e.get());
    }
    open_ = true;
}

void KafkaTransactions::commit(int timeout_ms, const std::function<void()>& serve) {
    if (!open_) {
        return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        ErrorPtr e = take(rd_kafka_commit_transaction(
            sink_.handle(), static_cast<int>(std::clamp<std::int64_t>(left.count(), 1, 1000))));
        if (!e) {
            open_ = false;
            return;
        }
        if (rd_kafka_error_txn_requires_abort(e.get())) {
            const std::string why = describe(e.get());
            abort(timeout_ms);
            throw TransactionAborted("Kafka aborted the transaction: " + why +
                                     "; its events are sent again");
        }
        if (rd_kafka_error_is_fatal(e.get()) || !rd_kafka_error_is_retriable(e.get())) {
            open_ = false;
            throw_fatal("at commit", e.get());
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            // Whether it committed is not known yet: a new producer with the same id settles it
            // (completes or aborts it) before the stream resumes from what Kafka has.
            open_ = false;
            throw SinkError("Kafka did not confirm a transaction's commit within " +
                            std::to_string(timeout_ms / 1000) + " s: " + describe(e.get()));
        }
        if (serve) {
            serve();
        }
    }
}

void KafkaTransactions::abort(int timeout_ms) {
    if (!open_) {
        return;
    }
    open_ = false;
    ErrorPtr e = take(rd_kafka_abort_transaction(sink_.handle(), timeout_ms));
    if (e) {
        if (rd_kafka_error_is_fatal(e.get())) {
            throw_fatal("when aborting a transaction", e.get());
        }
        // Not confirmed: the broker aborts it after transaction.timeout.ms, or the next
        // producer with this id does at its start; its records are never committed either way.
        spdlog::warn("Kafka did not confirm the abort of a transaction: {}", describe(e.get()));
    }
}

}  // namespace pgcs::sink
