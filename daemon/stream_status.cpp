// The stream loop's reports: standby status updates to PostgreSQL (the acknowledged position),
// heartbeat messages, keepalives, and the periodic progress picture (metrics, systemd, the
// snapshot's progress bar).
#include "daemon/stream_loop_impl.hpp"

#include "core/snapshot/progress_bar.hpp"
#include "core/source/heartbeat.hpp"
#include "core/source/slot_lag.hpp"

namespace pgcs::daemon::detail {

void StreamLoop::maybe_send_status(bool force, bool reading) {
    const auto update =
        status_.due(Clock::now(), last_received_, tracker_->flush_lsn(), force, reading);
    if (!update) {
        return;
    }
    stream_->send_status(update->write, update->flush, update->flush, update->reply_requested);
    if (update->flush != last_reported_flush_) {
        spdlog::debug("acknowledged up to {}", format_lsn(update->flush));
        last_reported_flush_ = update->flush;
    }
}

void StreamLoop::maybe_heartbeat() {
    const int interval = config_.postgres.heartbeat_interval_ms;
    const auto now = Clock::now();
    // A standby is read-only: the slot advances with the primary's WAL (connect_catalog() said so).
    if (interval <= 0 || in_recovery_ || now - last_heartbeat_ < milliseconds(interval)) {
        return;
    }
    last_heartbeat_ = now;
    // A real commit in this database (core/source/heartbeat.hpp).
    source::emit_heartbeat(catalog_conn_.get());
}

void StreamLoop::report_progress(bool force) {
    const auto now = Clock::now();
    if (!force && now - last_progress_report_ < milliseconds(1000)) {
        return;
    }
    last_progress_report_ = now;
    if (catalog_ && now - last_slot_query_ > std::chrono::seconds(10)) {
        last_slot_query_ = now;
        try {
            if (auto bytes =
                    source::retained_wal_bytes(catalog_conn_.get(), config_.postgres.slot,
                                               in_recovery_, config_.postgres.read_timeout_ms)) {
                retained_wal_bytes_ = *bytes;
            }
        } catch (const source::PgError& e) {
            spdlog::debug("slot query failed: {}", e.what());
        }
    }
    if (progress_bar_) {
        draw_snapshot_progress(false);
    }
    if (halted_until_ && tracker_->flush_lsn() >= *halted_until_) {
        spdlog::info(
            "the transaction ending at {} that was too large for Kafka is acknowledged: "
            "no longer halted",
            format_lsn(*halted_until_));
        halted_until_.reset();
        observer_.resumed();
    }
    StreamProgress p;
    p.flush_lsn = tracker_->flush_lsn();
    p.server_wal_end = server_wal_end_;
    p.in_flight = tracker_->in_flight_messages();
    const bool idle = tracker_->idle();
    const std::int64_t acked = tracker_->acknowledged_commit_time();
    // Caught up and idle: no lag, however long ago the last commit was.
    p.lag_seconds = idle || acked == 0 ? 0.0 : static_cast<double>(source::pg_now() - acked) / 1e6;
    p.retained_wal_bytes = retained_wal_bytes_;
    // Progress for the watchdog: nothing is waiting, or Kafka acknowledged something since the
    // last report. Waiting on an unreachable Kafka with events in flight is not progress.
    p.advancing = idle || deliveries_ != deliveries_at_last_report_;
    deliveries_at_last_report_ = deliveries_;
    observer_.progress(p);
}

void StreamLoop::draw_snapshot_progress(bool final_line) {
    const auto [done, total] = snapshots_.row_progress();
    std::fprintf(stderr, "\r%s%s",
                 snapshot::progress_bar(done, total, snapshots_.tables_remaining()).c_str(),
                 final_line ? "\n" : "");
    std::fflush(stderr);
}

void StreamLoop::handle(const source::Keepalive& k) {
    server_wal_end_ = std::max(server_wal_end_, k.wal_end);
    tracker_->on_keepalive(k.wal_end);
    if (k.reply_requested) {
        maybe_send_status(true);
    }
}

}  // namespace pgcs::daemon::detail
