// Wiring: replication stream -> TransactionAssembler -> Publisher (decode, build, encode, Kafka),
// and Kafka's delivery reports -> ack tracker -> status updates (stream_status.cpp). One thread.
// run() supervises: transient PostgreSQL failures reconnect with backoff, permanent ones stop.
#include "daemon/stream_loop_impl.hpp"

namespace pgcs::daemon {

namespace detail {

void StreamLoop::connect_catalog() {
    source::set_query_timeout_ms(config_.postgres.read_timeout_ms);
    catalog_.reset();
    catalog_conn_ = source::connect(settings_, false);
    catalog_.emplace(catalog_conn_.get());
    publisher_.set_catalog(*catalog_);
    in_recovery_ = catalog_->in_recovery();
    if (in_recovery_ && !standby_logged_) {
        standby_logged_ = true;
        spdlog::info(
            "postgres.conninfo reaches a standby (pg_is_in_recovery): no heartbeat is written "
            "(a standby is read-only); the slot advances with the WAL the primary writes, so on "
            "an idle primary run SELECT pg_log_standby_snapshot() there now and then, or write "
            "there (README, \"Upgrades and high availability\")");
    }
    // Binary values of types decoded nowhere here: the server's receive then output function.
    publisher_.encoder().set_binary_fallback(
        [this](changeset::Oid oid, std::span<const std::byte> bytes) {
            std::string text = source::server_text_of_binary(catalog_conn_.get(), oid, bytes);
            ++binary_fallbacks_;
            return text;
        });
}

struct PromotionSeen {};  // check_identity() to run(): promoted_ is set

void StreamLoop::check_identity(PGconn* replication_conn) {
    promoted_ = follower_.identified(source::identify_system(replication_conn),
                                     tracker_ ? tracker_->flush_lsn() : 0, streamed_from_standby_);
    if (promoted_) {
        throw PromotionSeen{};
    }
}

void StreamLoop::prepare_database() {
    if (in_recovery_ && config_.snapshot.mode != config::SnapshotMode::Never) {
        throw ConfigFailure(
            "postgres.conninfo reaches a standby and snapshot.mode is " +
            std::string(config::snapshot_mode_name(config_.snapshot.mode)) +
            ": snapshots record their progress in a table, which a standby cannot write. Set "
            "snapshot.mode: never, or snapshot through the primary");
    }
    source::SourceContext context;
    context.timeline = follower_.timeline();
    context.in_recovery = in_recovery_;
    context.promotion = follower_.promotion();
    const Lsn confirmed = source::prepare_source(
        catalog_conn_.get(), *catalog_, source_settings_from(config_.postgres),
        [this](bool missing) {
            return snapshots_.plan(catalog_conn_.get(), *catalog_, missing,
                                   catalog_->publication_tables(config_.postgres.publication));
        },
        &exported_, context);
    progress_bar_ =
        config_.snapshot.mode == config::SnapshotMode::InitialOnly && ::isatty(STDERR_FILENO) == 1;
    tracker_.emplace(confirmed);
    last_reported_flush_ = confirmed;
    last_received_ = confirmed;
    assembler_.set_handed_out(confirmed);
    publisher_.bind(*sink_, *tracker_, confirmed);
}

void StreamLoop::check_slot_on_reconnect() {
    source::check_slot_still_usable(catalog_->slot(config_.postgres.slot), config_.postgres.slot,
                                    tracker_->flush_lsn());
}

void StreamLoop::wait_for_kafka() {
    Backoff backoff(milliseconds(config_.reconnect.initial_backoff_ms),
                    milliseconds(config_.reconnect.max_backoff_ms));
    std::string why;
    while (!sink_->reachable(5000, why)) {
        if (!sink_->refusal().empty()) {
            throw ConfigFailure("Kafka refuses this client: " + sink_->refusal());
        }
        observer_.reconnect("kafka");
        const auto delay = backoff.next();
        spdlog::warn("Kafka is unreachable ({}: {}); retrying in {} ms", config_.kafka.brokers, why,
                     delay.count());
        observer_.state("waiting for Kafka: " + why);
        sleep_serving_kafka(delay);
    }
}

void StreamLoop::start_replication() {
    const auto& pg = config_.postgres;
    // Snapshot watermarks are logical decoding messages: asked for even when messages are not
    // published.
    options_ =
        source::start_options_for(catalog_->server_version(), pg.slot, pg.publication, pg.streaming,
                                  pg.binary, pg.messages || snapshots_.enabled());
    const source::StartOptions& options = options_;
    bool waiting_logged = false;
    for (;;) {
        source::PgConnPtr conn = source::connect(settings_, true);
        check_identity(conn.get());
        stream_.emplace(std::move(conn));
        try {
            stream_->start(options);
            break;
        } catch (const source::PgError& e) {
            // Another process streams the slot.
            if (e.sqlstate() != source::sqlstate::kObjectInUse) {
                throw;
            }
            if (!waiting_logged) {
                spdlog::warn("{}; waiting as a standby until the slot is free", e.what());
                observer_.state("standby: the slot is in use by another process");
                waiting_logged = true;
            }
        }
        stream_.reset();
        sleep_serving_kafka(milliseconds(2000));
    }
    streamed_from_standby_ = in_recovery_;
    // After a reconnect the server sends every unacknowledged transaction again.
    assembler_.restart(options.proto_version);
    start_exactly_once();
    tracker_->set_transaction_open(false);
    status_.heard(Clock::now());
    spdlog::info("streaming slot {} (publication {}, pgoutput v{}{}{}{}) from {}",
                 config_.postgres.slot, config_.postgres.publication, options.proto_version,
                 options.streaming ? ", streaming" : "", options.binary ? ", binary" : "",
                 options.messages ? ", messages" : "", format_lsn(tracker_->flush_lsn()));
    observer_.streaming(true);
    observer_.state("streaming");
}

void StreamLoop::wait_for_input(int timeout_ms) {
    // A reader's result (a chunk's end found, its rows) wakes the loop too: it dispatches the
    // next chunk then, not at the timeout. poll() skips a negative fd.
    pollfd fds[3] = {{stream_->socket(), POLLIN, 0},
                     {sink_->wakeup_fd(), POLLIN, 0},
                     {snapshots_.wakeup_fd(), POLLIN, 0}};
    ::poll(fds, 3, timeout_ms);
    if (fds[1].revents & POLLIN) {
        sink_->drain_wakeup_fd();
    }
    if (fds[2].revents & POLLIN) {
        snapshots_.drain_wakeup_fd();  // the results are taken by snapshots_.poll()
    }
}

void StreamLoop::handle(const source::XLogData& x) {
    last_received_ = std::max(last_received_, x.start);
    server_wal_end_ = std::max(server_wal_end_, x.wal_end);
    assembler_.feed(x, publisher_);
    tracker_->set_transaction_open(assembler_.transaction_open());
}

void StreamLoop::wait_for_room() {
    // Status updates keep the walsender from timing us out while the stream is not read.
    sink_->poll(50);
    check_failures();
    maybe_send_status(false, /*reading=*/false);
    report_progress(false);
    if (flags_.stop) {
        throw StopRequested{};
    }
}

void StreamLoop::sleep_serving_kafka(milliseconds delay) {
    const auto until = Clock::now() + delay;
    while (Clock::now() < until) {
        if (flags_.stop) {
            throw StopRequested{};
        }
        sink_->poll(100);
        check_failures();
        report_progress(false);
    }
}

void StreamLoop::loop() {
    source::StreamEvent event;
    while (!flags_.stop) {
        if (flags_.reload.exchange(false)) {
            observer_.reload();
        }
        sink_->poll(0);
        check_failures();
        bool got = false;
        for (int budget = 10000; budget > 0 && !flags_.stop; --budget) {
            if (!stream_->read(event)) {
                break;
            }
            got = true;
            status_.heard(Clock::now());
            std::visit([this](const auto& e) { handle(e); }, event);
        }
        if (exactly_once_ && exactly_once_->due(Clock::now())) {
            exactly_once_->commit(*tracker_, [this] { sink_->poll(0); });
        }
        maybe_send_status();
        maybe_heartbeat();
        report_progress(false);
        snapshots_.poll(catalog_conn_.get(), *catalog_);
        snapshots_.on_flushed(catalog_conn_.get(), tracker_->flush_lsn());
        if (config_.snapshot.mode == config::SnapshotMode::InitialOnly && snapshots_.finished() &&
            tracker_->idle()) {
            if (progress_bar_) {
                draw_snapshot_progress(true);
            }
            if (snapshots_.failed() > 0) {
                throw StreamFailure(
                    "the snapshot of " + std::to_string(snapshots_.failed()) +
                    " tables failed (logged above; their rows in " + config_.snapshot.table +
                    " say why): fix the cause, ask for them again with pgchangeset snapshot "
                    "--table, and run again");
            }
            spdlog::info(
                "snapshot complete (snapshot.mode initial_only): stopping. The slot {} stays and "
                "keeps WAL from here on: stream from it (snapshot.mode never or initial), or drop "
                "it: SELECT pg_drop_replication_slot('{}')",
                config_.postgres.slot, config_.postgres.slot);
            throw StopRequested{};
        }
        if (!got) {
            wait_for_input(100);
        }
    }
    throw StopRequested{};
}

void StreamLoop::shutdown(bool send_final_status, bool halting) {
    if (!halting) {
        observer_.state("stopping");
    }
    if (exactly_once_ && exactly_once_->open()) {
        try {  // whole PostgreSQL transactions only: a partly published one aborted it
            exactly_once_->commit(*tracker_, {});
        } catch (const std::exception& e) {
            spdlog::warn(
                "the last Kafka transaction did not commit ({}); its events are sent "
                "again after a restart",
                e.what());
        }
    }
    if (sink_) {
        const int queued = sink_->outstanding();
        if (queued > 0) {
            spdlog::info("waiting up to {} ms for Kafka to acknowledge {} events",
                         config_.kafka.flush_timeout_ms, queued);
        }
        const int left = sink_->flush(config_.kafka.flush_timeout_ms);
        if (left > 0) {
            spdlog::warn(
                "{} events were not acknowledged by Kafka in time; they will be sent "
                "again after restart",
                left);
        }
    }
    if (send_final_status && stream_ && tracker_) {
        try {
            maybe_send_status(true, false);
            if (!stream_->finish(5000)) {
                spdlog::warn(
                    "PostgreSQL did not confirm the end of the stream within 5 s: the final "
                    "position may not be recorded, and a restart may send some events again");
            }
        } catch (const std::exception& e) {
            spdlog::warn("could not send the final status update: {}", e.what());
        }
    }
    if (tracker_) {
        spdlog::info("acknowledged up to {}; {} events published in this run",
                     format_lsn(tracker_->flush_lsn()), publisher_.events_published());
        if (binary_fallbacks_ > 0) {
            spdlog::info(
                "{} binary values of types without a decoder here were converted by the "
                "server",
                binary_fallbacks_);
        }
    }
    observer_.streaming(false);
}

int StreamLoop::run() {
    Backoff backoff(milliseconds(config_.reconnect.initial_backoff_ms),
                    milliseconds(config_.reconnect.max_backoff_ms));
    bool prepared = false;
    try {
        sink_.emplace(sink_settings_from(config_),
                      [this](const sink::DeliveryReport& r) { on_delivery(r); });
    } catch (const sink::SinkConfigError& e) {
        spdlog::error("{}", e.what());
        return kExitConfig;
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return kExitFailure;
    }
    for (;;) {
        try {
            if (flags_.stop) {
                throw StopRequested{};
            }
            observer_.state("connecting to PostgreSQL");
            connect_catalog();
            {
                // The first one also tells whether the server lets the user replicate.
                const source::PgConnPtr replication =
                    prepared ? source::connect(settings_, true)
                             : source::connect_replication_checked(catalog_conn_.get(), settings_);
                check_identity(replication.get());
            }
            if (!prepared) {
                prepare_database();
                prepared = true;
            } else {
                check_slot_on_reconnect();
            }
            wait_for_kafka();
            if (exported_) {
                copy_exported_snapshot();
            }
            if (!snapshots_resumed_) {
                snapshots_.resume(catalog_conn_.get(), *catalog_);
                snapshots_resumed_ = true;
            }
            start_replication();
            backoff.reset();
            loop();
        } catch (const StopRequested&) {
            spdlog::info("stop requested");
            shutdown(true);
            return kExitOk;
        } catch (const PromotionSeen&) {
            stream_.reset();
            shutdown(false);
            return kPromoted;
        } catch (const ConfigFailure& e) {
            spdlog::error("{}", e.what());
            shutdown(false);
            return kExitConfig;
        } catch (const source::PgError& e) {
            const source::PgErrorClass cls = source::classify_pg_error(e);
            if (!cls.transient) {
                spdlog::error("PostgreSQL{}: {}",
                              e.sqlstate().empty() ? "" : " (SQLSTATE " + e.sqlstate() + ")",
                              e.what());
                spdlog::error("what to do: {}", cls.advice);
                shutdown(false);
                return kExitFailure;
            }
            observer_.streaming(false);
            observer_.reconnect("postgres");
            stream_.reset();
            rewind_to_committed();
            const auto delay = backoff.next();
            spdlog::warn("PostgreSQL: {}; reconnecting in {} ms", e.what(), delay.count());
            observer_.state("reconnecting to PostgreSQL in " + std::to_string(delay.count()) +
                            " ms: " + e.what());
            try {
                if (!tracker_) {  // not prepared yet: Kafka is not involved
                    for (auto until = Clock::now() + delay; Clock::now() < until;) {
                        if (flags_.stop) {
                            return kExitOk;
                        }
                        std::this_thread::sleep_for(milliseconds(50));
                    }
                } else {
                    sleep_serving_kafka(delay);
                }
            } catch (const StopRequested&) {
                shutdown(false);
                return kExitOk;
            } catch (const EventRefused& f) {
                return halt(f);
            } catch (const std::exception& f) {
                spdlog::error("{}", f.what());
                shutdown(false);
                return kExitFailure;
            }
        } catch (const EventRefused& e) {
            return halt(e);
        } catch (const sink::TransactionAborted& e) {
            spdlog::warn("{}; the stream resumes after the last committed Kafka transaction",
                         e.what());
            observer_.streaming(false);
            stream_.reset();
            rewind_to_committed();
            try {
                sleep_serving_kafka(backoff.next());
            } catch (const StopRequested&) {
                shutdown(false);
                return kExitOk;
            }
        } catch (const std::exception& e) {
            spdlog::error("{}", e.what());
            // The watermark is safe to report: it only covers what Kafka acknowledged.
            shutdown(true);
            return kExitFailure;
        }
    }
}

}  // namespace detail

int run_stream(const config::Config& config, StopFlags flags, StreamObserver& observer) {
    // Halted: the loop has disconnected (nothing is read, the slot keeps the transaction). A new
    // loop after the delay starts over from the slot, as a restart of the process would.
    // Promoted: the loop saw a new timeline; a new loop resumes from the promoted server's slot,
    // as a restart would, with the checks of SourceContext::Promotion.
    std::optional<HaltInfo> halted;
    std::optional<detail::Promoted> promoted;
    for (;;) {
        detail::StreamLoop loop(config, flags, observer);
        if (halted) {
            loop.retry_halted(halted->end_lsn);
        }
        if (promoted) {
            loop.follow(*promoted);
        }
        const int rc = loop.run();
        if (rc == detail::kPromoted) {
            promoted = loop.promoted();
            continue;
        }
        if (rc != detail::kHalted) {
            return rc;
        }
        halted = loop.halt();
        if (!detail::wait_while_halted(config, flags, observer, *halted)) {
            return kExitOk;
        }
        spdlog::info("halted: trying the transaction ending at {} again",
                     format_lsn(halted->end_lsn));
    }
}

}  // namespace pgcs::daemon
