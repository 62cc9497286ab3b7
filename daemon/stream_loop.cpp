// Wiring: source (replication stream) -> transaction buffer -> decoder -> builder -> encoder ->
// sink, and sink delivery reports -> ack tracker -> status updates. Single-threaded.
#include "daemon/stream_loop.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <thread>
#include <unordered_map>

#include "core/ack/ack_tracker.hpp"
#include "core/changeset/changeset.hpp"
#include "core/encode/changeset_encoder.hpp"
#include "core/encode/value_writer.hpp"
#include "core/pgoutput/decoder.hpp"
#include "core/sink/kafka_sink.hpp"
#include "core/source/catalog.hpp"
#include "core/source/replication_stream.hpp"
#include "core/source/transaction_buffer.hpp"

namespace pgcs::daemon {

namespace {

using Clock = std::chrono::steady_clock;
using encode::format_lsn;

struct StopRequested {};

// A failure with what the operator should know; the stream stops without acknowledging it.
class StreamFailure : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class StreamLoop {
  public:
    StreamLoop(const config::Config& config, const std::atomic<bool>& stop)
        : config_(config),
          stop_(stop),
          settings_{config.postgres.conninfo, config.postgres.password, "pgchangeset"},
          encoder_(types_) {}

    int run();

  private:
    void prepare_database();
    void start_replication();
    void loop();
    void shutdown(bool send_final_status);

    void handle(const source::XLogData& x);
    void handle(const source::Keepalive& k);
    void publish_transaction(const pgoutput::Commit& commit);
    void define_relation(const pgoutput::Relation& relation);
    void emit(const changeset::Changeset& change, const changeset::EventMeta& meta,
              ack::TxnTicket ticket);
    void maybe_send_status(bool force = false);
    void wait_for_input(int timeout_ms);
    void check_failures() const;

    const config::Config& config_;
    const std::atomic<bool>& stop_;
    source::ConnectionSettings settings_;
    source::PgConnPtr catalog_conn_;
    std::optional<source::Catalog> catalog_;
    std::optional<source::ReplicationStream> stream_;
    std::optional<sink::KafkaSink> sink_;
    std::optional<ack::AckTracker> tracker_;

    changeset::TypeRegistry types_;
    changeset::RelationCache relations_;
    std::unordered_map<std::uint32_t, std::string> topics_;  // relation OID -> topic
    changeset::Changeset change_;
    encode::ChangesetEncoder encoder_;

    bool in_transaction_ = false;
    pgoutput::Begin begin_;
    source::TransactionBuffer buffer_;

    source::Lsn last_received_ = 0;
    source::Lsn last_reported_flush_ = 0;
    Clock::time_point last_status_{};
    std::uint64_t events_published_ = 0;
};

void StreamLoop::check_failures() const {
    if (const auto& f = tracker_->failure()) {
        throw StreamFailure("Kafka did not accept an event: " + *f +
                            ". Nothing from that transaction on is acknowledged; fix the cause "
                            "and restart: the stream resumes from the last acknowledged commit.");
    }
    if (!sink_->fatal_error().empty()) {
        throw StreamFailure("the Kafka producer hit a fatal error (" + sink_->fatal_error() +
                            "); restart to replay from the last acknowledged commit");
    }
}

void StreamLoop::prepare_database() {
    catalog_conn_ = source::connect(settings_, false);
    catalog_.emplace(catalog_conn_.get());
    const int version = catalog_->server_version();
    if (version < 100000) {
        throw StreamFailure("PostgreSQL " + std::to_string(version) +
                            " has no pgoutput logical replication; version 10 or later is needed");
    }
    const auto& pg = config_.postgres;
    const auto tables = catalog_->resolve_tables(pg.tables);
    if (auto what = catalog_->ensure_publication(pg.publication, tables); !what.empty()) {
        spdlog::info("{}", what);
    }
    source::Lsn confirmed = 0;
    if (auto slot = catalog_->slot(pg.slot)) {
        if (slot->plugin != "pgoutput") {
            throw StreamFailure("replication slot '" + pg.slot + "' uses plugin '" + slot->plugin +
                                "', not pgoutput: choose another postgres.slot");
        }
        if (slot->database != catalog_->current_database()) {
            throw StreamFailure("replication slot '" + pg.slot + "' belongs to database '" +
                                slot->database + "': choose another postgres.slot");
        }
        if (slot->wal_status == "lost") {
            throw StreamFailure("replication slot '" + pg.slot +
                                "' was invalidated (wal_status lost): the changes it held are "
                                "gone. Drop it and snapshot again; pgchangeset will not silently "
                                "continue from a gap");
        }
        confirmed = slot->confirmed_flush;
        spdlog::info("slot {} resumes after {}", pg.slot, format_lsn(confirmed));
    } else {
        confirmed = catalog_->create_slot(pg.slot);
        spdlog::warn(
            "created replication slot {} at {}: changes committed before it are not "
            "captured",
            pg.slot, format_lsn(confirmed));
    }
    tracker_.emplace(confirmed);
    last_reported_flush_ = confirmed;
    last_received_ = confirmed;
}

void StreamLoop::start_replication() {
    source::StartOptions options{config_.postgres.slot, config_.postgres.publication, 1, 0};
    bool waiting_logged = false;
    for (;;) {
        stream_.emplace(source::connect(settings_, true));
        try {
            stream_->start(options);
            break;
        } catch (const source::PgError& e) {
            if (e.sqlstate() != "55006") {  // object_in_use: another process streams the slot
                throw;
            }
            if (!waiting_logged) {
                spdlog::warn("{}; waiting as a standby until the slot is free", e.what());
                waiting_logged = true;
            }
        }
        stream_.reset();
        for (int i = 0; i < 50 && !stop_; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (stop_) {
            throw StopRequested{};
        }
    }
    spdlog::info("streaming slot {} (publication {}, pgoutput v{})", config_.postgres.slot,
                 config_.postgres.publication, options.proto_version);
}

void StreamLoop::define_relation(const pgoutput::Relation& relation) {
    for (const auto& c : relation.columns) {
        catalog_->resolve_type(c.type_oid, types_);
    }
    std::vector<std::string> pk;
    if (changeset::RelationCache::needs_catalog_key(relation.replica_identity)) {
        pk = catalog_->primary_key(relation.oid);
    }
    const auto& info = relations_.define(relation, pk, types_);
    topics_[relation.oid] = config_.kafka.topic_prefix + "." + info.schema + "." + info.name;
    spdlog::debug("relation {}.{} (OID {}, replica identity '{}', {} columns)", info.schema,
                  info.name, info.oid, info.replica_identity, info.columns.size());
}

void StreamLoop::emit(const changeset::Changeset& change, const changeset::EventMeta& meta,
                      ack::TxnTicket ticket) {
    try {
        encoder_.encode(change, meta);
    } catch (const std::exception& e) {
        throw StreamFailure("cannot encode the change at " + format_lsn(meta.lsn) + " on " +
                            change.relation->schema + "." + change.relation->name + ": " +
                            e.what());
    }
    const std::string& topic = topics_.at(change.relation->oid);
    tracker_->add_events(ticket, 1);
    while (sink_->produce(topic, encoder_.has_key(), encoder_.key(), encoder_.value(), ticket) ==
           sink::ProduceResult::QueueFull) {
        // Back-pressure: the stream is not read while Kafka's queue is full, but status
        // updates keep the walsender from timing us out.
        sink_->poll(50);
        check_failures();
        maybe_send_status();
        if (stop_) {
            throw StopRequested{};
        }
    }
    ++events_published_;
}

void StreamLoop::publish_transaction(const pgoutput::Commit& commit) {
    const ack::TxnTicket ticket = tracker_->open_transaction(commit.end_lsn);
    std::uint64_t seq = 0;
    const pgoutput::DecodeOptions options{1, false};
    for (std::size_t i = 0; i < buffer_.size(); ++i) {
        const auto entry = buffer_[i];
        const pgoutput::Message message = pgoutput::decode(entry.bytes, options);
        auto meta = [&] {
            return changeset::EventMeta{begin_.commit_time, entry.captured_time, begin_.xid,
                                        entry.lsn,          commit.end_lsn,      seq++};
        };
        if (const auto* r = std::get_if<pgoutput::Relation>(&message)) {
            define_relation(*r);
        } else if (const auto* ins = std::get_if<pgoutput::Insert>(&message)) {
            changeset::build_insert(relations_.get(ins->relation_oid), *ins, change_);
            emit(change_, meta(), ticket);
        } else if (const auto* upd = std::get_if<pgoutput::Update>(&message)) {
            changeset::build_update(relations_.get(upd->relation_oid), *upd, change_);
            emit(change_, meta(), ticket);
        } else if (const auto* del = std::get_if<pgoutput::Delete>(&message)) {
            changeset::build_delete(relations_.get(del->relation_oid), *del, change_);
            emit(change_, meta(), ticket);
        } else if (const auto* tr = std::get_if<pgoutput::Truncate>(&message)) {
            for (auto oid : tr->relation_oids) {
                changeset::build_truncate(relations_.get(oid), change_);
                emit(change_, meta(), ticket);
            }
        } else if (std::holds_alternative<pgoutput::Type>(message) ||
                   std::holds_alternative<pgoutput::Origin>(message)) {
            // Types are resolved from the catalog when a Relation names them; origins unused.
        } else {
            throw StreamFailure("unexpected pgoutput message inside transaction " +
                                std::to_string(begin_.xid) + " at " + format_lsn(entry.lsn));
        }
    }
    tracker_->seal(ticket);
}

void StreamLoop::handle(const source::XLogData& x) {
    last_received_ = std::max(last_received_, x.start);
    if (x.payload.empty()) {
        throw StreamFailure("empty XLogData message at " + format_lsn(x.start));
    }
    const auto type = static_cast<char>(x.payload[0]);
    const pgoutput::DecodeOptions options{1, false};
    if (type == 'B') {
        if (in_transaction_) {
            throw StreamFailure("Begin inside transaction " + std::to_string(begin_.xid));
        }
        begin_ = std::get<pgoutput::Begin>(pgoutput::decode(x.payload, options));
        in_transaction_ = true;
        tracker_->set_transaction_open(true);
        buffer_.clear();
    } else if (type == 'C') {
        const auto commit = std::get<pgoutput::Commit>(pgoutput::decode(x.payload, options));
        if (!in_transaction_) {
            throw StreamFailure("Commit without Begin at " + format_lsn(x.start));
        }
        publish_transaction(commit);
        in_transaction_ = false;
        tracker_->set_transaction_open(false);
        buffer_.clear();
    } else if (in_transaction_) {
        buffer_.append(x.start, source::pg_now(), x.payload);
    } else {
        const pgoutput::Message message = pgoutput::decode(x.payload, options);
        if (const auto* r = std::get_if<pgoutput::Relation>(&message)) {
            define_relation(*r);
        } else if (!std::holds_alternative<pgoutput::Type>(message)) {
            throw StreamFailure(std::string("unexpected pgoutput message '") + type +
                                "' outside a transaction at " + format_lsn(x.start));
        }
    }
}

void StreamLoop::handle(const source::Keepalive& k) {
    tracker_->on_keepalive(k.wal_end);
    if (k.reply_requested) {
        maybe_send_status(true);
    }
}

void StreamLoop::maybe_send_status(bool force) {
    const auto now = Clock::now();
    if (!force &&
        now - last_status_ < std::chrono::milliseconds(config_.postgres.status_interval_ms)) {
        return;
    }
    const source::Lsn flush = tracker_->flush_lsn();
    stream_->send_status(std::max(last_received_, flush), flush, flush);
    if (flush != last_reported_flush_) {
        spdlog::debug("acknowledged up to {}", format_lsn(flush));
        last_reported_flush_ = flush;
    }
    last_status_ = now;
}

void StreamLoop::wait_for_input(int timeout_ms) {
    pollfd fds[2] = {{stream_->socket(), POLLIN, 0}, {sink_->wakeup_fd(), POLLIN, 0}};
    ::poll(fds, 2, timeout_ms);
    if (fds[1].revents & POLLIN) {
        sink_->drain_wakeup_fd();
    }
}

void StreamLoop::loop() {
    source::StreamEvent event;
    while (!stop_) {
        sink_->poll(0);
        check_failures();
        bool got = false;
        for (int budget = 10000; budget > 0 && !stop_; --budget) {
            if (!stream_->read(event)) {
                break;
            }
            got = true;
            std::visit([this](const auto& e) { handle(e); }, event);
        }
        maybe_send_status();
        if (!got) {
            wait_for_input(100);
        }
    }
    throw StopRequested{};
}

void StreamLoop::shutdown(bool send_final_status) {
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
            maybe_send_status(true);
        } catch (const std::exception& e) {
            spdlog::warn("could not send the final status update: {}", e.what());
        }
    }
    if (tracker_) {
        spdlog::info("acknowledged up to {}; {} events published in this run",
                     format_lsn(tracker_->flush_lsn()), events_published_);
    }
}

int StreamLoop::run() {
    try {
        prepare_database();
        sink_.emplace(sink::SinkSettings{config_.kafka.brokers, config_.kafka.properties},
                      [this](const sink::DeliveryReport& r) {
                          if (r.error == RD_KAFKA_RESP_ERR_NO_ERROR) {
                              tracker_->on_delivered(r.ticket);
                          } else {
                              tracker_->on_failed(r.ticket,
                                                  std::string(rd_kafka_err2name(r.error)) + " (" +
                                                      rd_kafka_err2str(r.error) + ") on topic " +
                                                      std::string(r.topic));
                          }
                      });
        start_replication();
        loop();
    } catch (const StopRequested&) {
        spdlog::info("stop requested");
        shutdown(true);
        return kExitOk;
    } catch (const source::PgError& e) {
        spdlog::error("PostgreSQL: {}", e.what());
        shutdown(false);
        return kExitFailure;
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        // The watermark is safe to report: it only covers what Kafka acknowledged.
        shutdown(true);
        return kExitFailure;
    }
    return kExitOk;
}

}  // namespace

int run_stream(const config::Config& config, const std::atomic<bool>& stop) {
    StreamLoop loop(config, stop);
    return loop.run();
}

}  // namespace pgcs::daemon
