// One Kafka transaction of whole PostgreSQL transactions; see exactly_once_batch.hpp.
#include "core/sink/exactly_once_batch.hpp"

namespace pgcs::sink {

std::optional<Lsn> ExactlyOnceBatch::start(int timeout_ms) {
    if (started_once_) {
        return std::nullopt;
    }
    progress_.ensure_exists(sink_, timeout_ms);
    transactions_.init(timeout_ms);
    const std::optional<Lsn> last = progress_.read_last(timeout_ms);
    committed_ = last.value_or(0);
    started_once_ = true;
    return last;
}

void ExactlyOnceBatch::before_produce() {
    if (!transactions_.open()) {
        transactions_.begin();
        started_ = Clock::now();
        events_ = 0;
    }
}

void ExactlyOnceBatch::finished(ack::AckTracker& tracker, ack::TxnTicket ticket, Lsn end_lsn) {
    if (!transactions_.open()) {
        tracker.seal(ticket);
        return;
    }
    tickets_.push_back(ticket);
    last_end_lsn_ = end_lsn;
}

void ExactlyOnceBatch::commit(ack::AckTracker& tracker, const std::function<void()>& serve) {
    if (!transactions_.open()) {
        return;
    }
    if (!tickets_.empty()) {
        // The progress record counts as one more event of the newest transaction.
        const ack::TxnTicket last = tickets_.back();
        tracker.add_events(last, 1);
        while (progress_.produce(sink_, last_end_lsn_, last) == ProduceResult::QueueFull) {
            sink_.poll(100);
        }
    }
    try {
        transactions_.commit(limits_.commit_timeout_ms, serve);
    } catch (...) {
        abandon_all(tracker);
        throw;
    }
    for (const ack::TxnTicket t : tickets_) {
        tracker.seal(t);
    }
    if (!tickets_.empty()) {
        committed_ = last_end_lsn_;
    }
    tickets_.clear();
    events_ = 0;
}

void ExactlyOnceBatch::abort(ack::AckTracker& tracker) {
    abandon_all(tracker);
    transactions_.abort(limits_.commit_timeout_ms);
}

void ExactlyOnceBatch::abandon_all(ack::AckTracker& tracker) {
    for (const ack::TxnTicket t : tickets_) {
        tracker.abandon(t);
    }
    tickets_.clear();
    events_ = 0;
}

}  // namespace pgcs::sink
