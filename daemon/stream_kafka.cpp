// The Kafka side of the stream loop: delivery reports, the failures they and the producer
// raise, exactly once (Kafka transactions) and the copy of the exported snapshot.
#include "daemon/stream_loop_impl.hpp"

namespace pgcs::daemon::detail {

void StreamLoop::check_failures() const {
    if (halt_) {
        throw EventRefused(*halt_);
    }
    if (sink_->fenced()) {  // before the failed deliveries it causes
        throw StreamFailure(sink::fenced_explanation(sink_->fatal_error()));
    }
    if (const auto& f = tracker_->failure()) {
        throw StreamFailure("Kafka did not accept an event: " + *f +
                            ". Nothing from that transaction on is acknowledged; fix the cause "
                            "and restart: the stream resumes from the last acknowledged commit.");
    }
    if (!sink_->refusal().empty()) {
        throw ConfigFailure("Kafka refuses this client: " + sink_->refusal());
    }
    if (!sink_->fatal_error().empty()) {
        throw StreamFailure("the Kafka producer hit a fatal error (" + sink_->fatal_error() +
                            "); restart to replay from the last acknowledged commit");
    }
}

void StreamLoop::on_delivery(const sink::DeliveryReport& r) {
    ++deliveries_;
    if (r.error == RD_KAFKA_RESP_ERR_NO_ERROR ||
        (exactly_once_ && (r.error == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                           r.error == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT))) {
        // (Purged: of an aborted Kafka transaction, whose tickets are abandoned.)
        tracker_->on_delivered(r.ticket);
        return;
    }
    observer_.kafka_error();
    sink::DeliveryFailure f = sink::delivery_failure(r);
    if (f.halt && !halt_) {
        halt_ = std::move(f.halt);
        halt_->table = publisher_.table_of_topic(r.topic);
        halt_->end_lsn = tracker_->end_lsn(r.ticket);
    }
    tracker_->on_failed(r.ticket, f.what);
}

void StreamLoop::start_exactly_once() {
    if (!config_.kafka.exactly_once || exactly_once_) {
        return;
    }
    exactly_once_.emplace(
        *sink_,
        sink::ProgressTopic(sink_settings_from(config_), progress_topic_from(config_),
                            config_.postgres.slot, follower_.system_id()),
        batch_limits_from(config_));
    publisher_.set_batch(&*exactly_once_);
    const std::optional<Lsn> kafka_has = exactly_once_->start(config_.kafka.flush_timeout_ms);
    spdlog::info("exactly once: Kafka transactions as {}; the progress topic {} says Kafka has {}",
                 sink_settings_from(config_).transactional_id, progress_topic_from(config_),
                 kafka_has ? "everything up to " + format_lsn(*kafka_has) : "nothing yet");
    if (kafka_has && *kafka_has > assembler_.handed_out()) {
        assembler_.set_handed_out(*kafka_has);  // the slot is behind Kafka: skipped
    }
}

void StreamLoop::rewind_to_committed() {
    if (exactly_once_) {
        assembler_.set_handed_out(std::max(tracker_->flush_lsn(), exactly_once_->committed()));
    }
}

void StreamLoop::copy_exported_snapshot() {
    start_exactly_once();
    try {
        publisher_.publish_exported(*exported_);
    } catch (...) {
        // Its tables stay pending: read by block ranges later (without the exported snapshot).
        exported_.reset();
        throw;
    }
    if (exactly_once_) {
        exactly_once_->commit(*tracker_, {});
    }
    while (!tracker_->idle()) {  // Kafka acknowledges them before they count as done
        if (flags_.stop) {
            throw StopRequested{};
        }
        sink_->poll(100);
        check_failures();
        report_progress(false);
    }
    exported_.reset();  // releases the snapshot
    snapshots_.finish_exported(catalog_conn_.get());
}

}  // namespace pgcs::daemon::detail
