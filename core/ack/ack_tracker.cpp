// Contiguous acknowledgement watermark over committed transactions, in commit order.
#include "core/ack/ack_tracker.hpp"

#include <algorithm>
#include <stdexcept>

namespace pgcs::ack {

TxnTicket AckTracker::open_transaction(Lsn commit_end_lsn, std::int64_t commit_time) {
    if (!pending_.empty() && commit_end_lsn < pending_.back().end_lsn) {
        throw std::logic_error("AckTracker: transactions must be added in commit order");
    }
    const TxnTicket ticket = first_ticket_ + pending_.size();
    pending_.push_back({commit_end_lsn, 0, false, false, false, commit_time});
    return ticket;
}

void AckTracker::add_events(TxnTicket ticket, std::uint64_t events) {
    Pending& p = entry(ticket);
    if (p.sealed) {
        throw std::logic_error("AckTracker: events added to a sealed transaction");
    }
    p.remaining += events;
    in_flight_messages_ += events;
}

void AckTracker::seal(TxnTicket ticket) {
    entry(ticket).sealed = true;
    advance();
}

void AckTracker::abandon(TxnTicket ticket) {
    Pending& p = entry(ticket);
    p.sealed = true;
    p.abandoned = true;
    advance();
}

TxnTicket AckTracker::add_transaction(Lsn commit_end_lsn, std::uint64_t events) {
    const TxnTicket ticket = open_transaction(commit_end_lsn);
    add_events(ticket, events);
    seal(ticket);
    return ticket;
}

AckTracker::Pending& AckTracker::entry(TxnTicket ticket) {
    if (ticket < first_ticket_ || ticket - first_ticket_ >= pending_.size()) {
        throw std::logic_error("AckTracker: delivery report for an unknown transaction");
    }
    return pending_[ticket - first_ticket_];
}

AckTracker::Pending& AckTracker::delivered_entry(TxnTicket ticket) {
    Pending& p = entry(ticket);
    if (p.remaining == 0) {
        throw std::logic_error("AckTracker: more delivery reports than messages");
    }
    return p;
}

void AckTracker::on_delivered(TxnTicket ticket) {
    Pending& p = delivered_entry(ticket);
    --p.remaining;
    --in_flight_messages_;
    advance();
}

void AckTracker::on_failed(TxnTicket ticket, const std::string& reason) {
    Pending& p = delivered_entry(ticket);
    --p.remaining;
    --in_flight_messages_;
    p.failed = true;
    if (!failure_) {
        failure_ = reason;
    }
    advance();
}

void AckTracker::on_keepalive(Lsn wal_end) {
    if (idle() && wal_end > flush_lsn_) {
        flush_lsn_ = wal_end;
    }
}

void AckTracker::advance() {
    // A failed transaction stays at the front for ever: nothing after it is acknowledged.
    while (!pending_.empty() && pending_.front().sealed && pending_.front().remaining == 0 &&
           !pending_.front().failed) {
        const Pending& done = pending_.front();
        if (!done.abandoned) {
            flush_lsn_ = std::max(flush_lsn_, done.end_lsn);
            acknowledged_commit_time_ = std::max(acknowledged_commit_time_, done.commit_time);
        }
        pending_.pop_front();
        ++first_ticket_;
    }
}

}  // namespace pgcs::ack
