// Wiring: source (replication stream) -> transaction buffer -> decoder -> builder -> encoder ->
// sink, and sink delivery reports -> ack tracker -> status updates. Single-threaded. run()
// supervises: transient PostgreSQL failures reconnect with backoff, permanent ones stop.
#include "daemon/stream_loop.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/ack/ack_tracker.hpp"
#include "core/changeset/changeset.hpp"
#include "core/encode/changeset_encoder.hpp"
#include "core/pgoutput/decoder.hpp"
#include "core/sink/kafka_sink.hpp"
#include "core/source/catalog.hpp"
#include "core/source/replication_stream.hpp"
#include "core/source/transaction_buffer.hpp"
#include "daemon/backoff.hpp"
#include "daemon/pg_error_class.hpp"
#include "daemon/snapshot_coordinator.hpp"
#include "daemon/source_setup.hpp"

namespace pgcs::daemon {

namespace {

using Clock = std::chrono::steady_clock;
using encode::format_lsn;
using std::chrono::milliseconds;

struct StopRequested {};

constexpr std::string_view kHeartbeatPrefix = "pgchangeset.heartbeat";

std::uint32_t read_u32(std::span<const std::byte> b, std::size_t at) {
    return (std::to_integer<std::uint32_t>(b[at]) << 24) |
           (std::to_integer<std::uint32_t>(b[at + 1]) << 16) |
           (std::to_integer<std::uint32_t>(b[at + 2]) << 8) |
           std::to_integer<std::uint32_t>(b[at + 3]);
}

class StreamLoop {
  public:
    StreamLoop(const config::Config& config, StopFlags flags, StreamObserver& observer)
        : config_(config),
          flags_(flags),
          observer_(observer),
          settings_{config.postgres.conninfo, config.postgres.password, "pgchangeset"},
          encoder_(types_),
          budget_(config.buffer.memory_limit_bytes),
          buffer_(budget_, config.buffer.spill_directory),
          messages_topic_(config.kafka.messages_topic.empty()
                              ? config.kafka.topic_prefix + ".messages"
                              : config.kafka.messages_topic),
          snapshots_(config, types_,
                     {[this](std::string_view table, std::uint64_t rows) {
                          observer_.snapshot_rows(table, rows);
                      },
                      [this](std::size_t n) { observer_.snapshot_tables_remaining(n); }}) {}

    int run();

  private:
    void connect_catalog();
    void prepare_database();
    // The new slot's exported snapshot: tables without a key, before streaming starts.
    void copy_exported_snapshot();
    void check_slot_on_reconnect();
    void wait_for_kafka();
    void start_replication();
    void loop();
    void shutdown(bool send_final_status);
    void sleep_serving_kafka(milliseconds delay);

    void handle(const source::XLogData& x);
    void handle(const source::Keepalive& k);
    struct CommitInfo {
        pgoutput::Xid xid;
        std::int64_t commit_time;
        source::Lsn end_lsn;
    };
    // A transaction streamed in pieces (protocol v2) and not yet committed or aborted.
    struct StreamedTxn {
        source::TransactionBuffer buffer;
        std::unordered_set<pgoutput::Xid> aborted_subxids;
    };
    void publish_transaction(source::TransactionBuffer& buffer, const CommitInfo& commit,
                             bool streamed, const std::unordered_set<pgoutput::Xid>* aborted);
    void handle_stream_message(char type, const source::XLogData& x);
    void publish_message(const pgoutput::LogicalMessage& m, const CommitInfo* commit,
                         std::int64_t captured_time, std::uint64_t seq,
                         std::optional<ack::TxnTicket> ticket);
    bool heartbeat(std::string_view prefix) const { return prefix == kHeartbeatPrefix; }
    void reset_receive_state();
    void define_relation(const pgoutput::Relation& relation);
    void emit(const changeset::Changeset& change, const changeset::EventMeta& meta,
              ack::TxnTicket ticket);
    // Hands the encoder's current key and value to Kafka, waiting out a full queue.
    void produce(const std::string& topic, ack::TxnTicket ticket);
    void produce(const std::string& topic, bool has_key, std::string_view key,
                 std::string_view value, ack::TxnTicket ticket);
    void maybe_send_status(bool force = false, bool reading = true);
    void maybe_heartbeat();
    void report_progress(bool force);
    void emit_chunk(SnapshotCoordinator::PendingChunk& chunk, const CommitInfo& commit,
                    std::uint64_t lsn, std::uint64_t& seq, ack::TxnTicket ticket);
    void draw_snapshot_progress(bool final_line);
    void wait_for_input(int timeout_ms);
    void check_failures() const;
    void on_delivery(const sink::DeliveryReport& r);

    const config::Config& config_;
    StopFlags flags_;
    StreamObserver& observer_;
    source::ConnectionSettings settings_;
    source::PgConnPtr catalog_conn_;
    std::optional<source::Catalog> catalog_;
    std::optional<source::ReplicationStream> stream_;
    std::optional<sink::KafkaSink> sink_;
    std::optional<ack::AckTracker> tracker_;

    changeset::TypeRegistry types_;
    changeset::RelationCache relations_;
    std::unordered_map<std::uint32_t, std::string> topics_;  // relation OID -> topic
    std::unordered_map<std::uint32_t, std::string> names_;   // relation OID -> schema.table
    changeset::Changeset change_;
    encode::ChangesetEncoder encoder_;
    std::string value_scratch_;  // a snapshot row's value

    bool in_transaction_ = false;
    bool skipping_ = false;  // the open transaction was already handed to Kafka
    pgoutput::Begin begin_;
    source::MemoryBudget budget_;
    source::TransactionBuffer buffer_;
    std::string messages_topic_;
    source::StartOptions options_;
    bool in_stream_ = false;
    pgoutput::Xid stream_xid_ = 0;
    std::unordered_map<pgoutput::Xid, StreamedTxn> streams_;
    // End LSN of the newest transaction handed to Kafka in full: a transaction sent again
    // after a reconnect with an end LSN at or below it is skipped, never published twice.
    source::Lsn last_enqueued_end_ = 0;

    source::Lsn last_received_ = 0;
    source::Lsn server_wal_end_ = 0;
    source::Lsn last_reported_flush_ = 0;
    std::int64_t retained_wal_bytes_ = -1;
    std::uint64_t events_published_ = 0;
    std::uint64_t binary_fallbacks_ = 0;  // binary values converted by the server
    std::uint64_t deliveries_ = 0;
    std::uint64_t deliveries_at_last_report_ = 0;
    Clock::time_point last_status_{};
    Clock::time_point last_server_message_{};
    Clock::time_point last_heartbeat_{};
    Clock::time_point last_progress_report_{};
    Clock::time_point last_slot_query_{};

    SnapshotCoordinator snapshots_;
    std::unordered_set<std::uint32_t> ignored_;  // relation OIDs never published (progress table)
    bool progress_bar_ = false;                  // initial_only on a terminal
    std::optional<source::ExportedSnapshot> exported_;
    bool snapshots_resumed_ = false;
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

void StreamLoop::on_delivery(const sink::DeliveryReport& r) {
    ++deliveries_;
    if (r.error == RD_KAFKA_RESP_ERR_NO_ERROR) {
        tracker_->on_delivered(r.ticket);
        return;
    }
    observer_.kafka_error();
    std::string what = std::string(rd_kafka_err2name(r.error)) + " (" + rd_kafka_err2str(r.error) +
                       ") on topic " + std::string(r.topic);
    if (const std::string remedy = sink::delivery_error_remedy(r.error); !remedy.empty()) {
        what += "; " + remedy;
    }
    tracker_->on_failed(r.ticket, what);
}

void StreamLoop::connect_catalog() {
    source::set_query_timeout_ms(config_.postgres.read_timeout_ms);
    catalog_.reset();
    catalog_conn_ = source::connect(settings_, false);
    catalog_.emplace(catalog_conn_.get());
    // Binary values of types decoded nowhere here: the server's receive then output function.
    encoder_.set_binary_fallback([this](changeset::Oid oid, std::span<const std::byte> bytes) {
        const char* values[] = {reinterpret_cast<const char*>(bytes.data())};
        const int lengths[] = {static_cast<int>(bytes.size())};
        const int formats[] = {1};
        const Oid types[] = {oid};
        source::PgResultPtr r = source::exec_params(catalog_conn_.get(), "SELECT $1", 1, types,
                                                    values, lengths, formats);
        if (PQntuples(r.get()) != 1) {
            throw std::runtime_error("the server could not convert a binary value of type OID " +
                                     std::to_string(oid) + " to text");
        }
        ++binary_fallbacks_;
        return std::string(PQgetvalue(r.get(), 0, 0),
                           static_cast<std::size_t>(PQgetlength(r.get(), 0, 0)));
    });
}

void StreamLoop::prepare_database() {
    const source::Lsn confirmed = prepare_source(
        catalog_conn_.get(), *catalog_, config_.postgres,
        [this](bool missing) {
            return snapshots_.plan(catalog_conn_.get(), *catalog_, missing,
                                   catalog_->publication_tables(config_.postgres.publication));
        },
        &exported_);
    progress_bar_ =
        config_.snapshot.mode == config::SnapshotMode::InitialOnly && ::isatty(STDERR_FILENO) == 1;
    tracker_.emplace(confirmed);
    last_reported_flush_ = confirmed;
    last_received_ = confirmed;
    last_enqueued_end_ = confirmed;
}

void StreamLoop::copy_exported_snapshot() {
    const CommitInfo commit{0, source::pg_now(), exported_->consistent_point};
    const ack::TxnTicket ticket = tracker_->open_transaction(commit.end_lsn, commit.commit_time);
    std::uint64_t seq = 0;
    try {
        snapshots_.copy_exported(*exported_, [&](SnapshotCoordinator::PendingChunk& rows) {
            emit_chunk(rows, commit, commit.end_lsn, seq, ticket);
        });
    } catch (...) {
        // Its tables stay pending: read by block ranges later (without the exported snapshot).
        tracker_->abandon(ticket);
        exported_.reset();
        throw;
    }
    tracker_->seal(ticket);
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

void StreamLoop::check_slot_on_reconnect() {
    check_slot_still_usable(*catalog_, config_.postgres.slot, tracker_->flush_lsn());
}

void StreamLoop::wait_for_kafka() {
    Backoff backoff(milliseconds(config_.reconnect.initial_backoff_ms),
                    milliseconds(config_.reconnect.max_backoff_ms));
    std::string why;
    while (!sink_->reachable(5000, why)) {
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
                observer_.state("standby: the slot is in use by another process");
                waiting_logged = true;
            }
        }
        stream_.reset();
        sleep_serving_kafka(milliseconds(2000));
    }
    reset_receive_state();
    last_server_message_ = Clock::now();
    spdlog::info("streaming slot {} (publication {}, pgoutput v{}{}{}{}) from {}",
                 config_.postgres.slot, config_.postgres.publication, options.proto_version,
                 options.streaming ? ", streaming" : "", options.binary ? ", binary" : "",
                 options.messages ? ", messages" : "", format_lsn(tracker_->flush_lsn()));
    observer_.streaming(true);
    observer_.state("streaming");
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
    if (snapshots_.is_progress_table(info.schema, info.name)) {
        ignored_.insert(relation.oid);  // a publication of every table includes it
    } else {
        ignored_.erase(relation.oid);
    }
    names_[relation.oid] = info.schema + "." + info.name;
    topics_[relation.oid] = config_.kafka.topic_prefix + "." + names_[relation.oid];
    spdlog::debug("relation {} (OID {}, replica identity '{}', {} columns)", names_[relation.oid],
                  info.oid, info.replica_identity, info.columns.size());
}

void StreamLoop::produce(const std::string& topic, ack::TxnTicket ticket) {
    produce(topic, encoder_.has_key(), encoder_.key(), encoder_.value(), ticket);
}

void StreamLoop::produce(const std::string& topic, bool has_key, std::string_view key,
                         std::string_view value, ack::TxnTicket ticket) {
    while (sink_->produce(topic, has_key, key, value, ticket) == sink::ProduceResult::QueueFull) {
        // Back-pressure: the stream is not read while Kafka's queue is full, but status
        // updates keep the walsender from timing us out.
        sink_->poll(50);
        check_failures();
        maybe_send_status(false, /*reading=*/false);
        report_progress(false);
        if (flags_.stop) {
            throw StopRequested{};
        }
    }
    ++events_published_;
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
    tracker_->add_events(ticket, 1);
    const auto oid = change.relation->oid;
    auto topic = topics_.find(oid);
    if (topic == topics_.end()) {  // a snapshot of a table the stream has not described yet
        names_[oid] = change.relation->schema + "." + change.relation->name;
        topic = topics_.emplace(oid, config_.kafka.topic_prefix + "." + names_[oid]).first;
    }
    produce(topic->second, ticket);
    observer_.event(changeset::op_name(change.op), names_[oid],
                    encoder_.key().size() + encoder_.value().size());
    if (change.op != changeset::Op::Read && snapshots_.watches(oid)) {
        // A change processed between a chunk's read and its watermark wins over the chunk's row.
        if (change.op == changeset::Op::Truncated) {
            snapshots_.on_truncate(oid);
        } else {
            if (encoder_.has_key()) {
                snapshots_.on_change(oid, encoder_.key());
            }
            if (change.op == changeset::Op::Modified && change.has_before) {
                snapshots_.on_change(oid, encoder_.encode_key(change, true));  // the old key
            }
        }
    }
}

void StreamLoop::emit_chunk(SnapshotCoordinator::PendingChunk& chunk, const CommitInfo& commit,
                            std::uint64_t lsn, std::uint64_t& seq, ack::TxnTicket ticket) {
    const snapshot::Chunk& rows = chunk.chunk;
    if (!rows.is_encoded) {  // read under an exported snapshot, here
        const int n = PQntuples(rows.rows.get());
        for (int i = 0; i < n; ++i) {
            snapshot::fill_read_change(*chunk.relation, rows.rows.get(), i, change_);
            emit(change_,
                 {commit.commit_time, chunk.read_time, commit.xid, lsn, commit.end_lsn, seq++},
                 ticket);
        }
        return;
    }
    // Encoded by a reader thread: only the watermark transaction's fields are added here.
    const auto oid = chunk.relation->oid;
    auto topic = topics_.find(oid);
    if (topic == topics_.end()) {  // a table the stream has not described yet
        names_[oid] = chunk.relation->schema + "." + chunk.relation->name;
        topic = topics_.emplace(oid, config_.kafka.topic_prefix + "." + names_[oid]).first;
    }
    const std::string& table = names_[oid];
    for (std::size_t i = 0; i < rows.encoded.size(); ++i) {
        if (chunk.dropped[i]) {
            continue;
        }
        const std::string_view prefix = rows.encoded.value(i);
        value_scratch_.assign(prefix.data(), prefix.size());
        encode::ChangesetEncoder::append_event_meta(
            value_scratch_,
            {commit.commit_time, chunk.read_time, commit.xid, lsn, commit.end_lsn, seq++});
        const std::string_view key = rows.encoded.key(i);
        tracker_->add_events(ticket, 1);
        produce(topic->second, rows.encoded.has_key, key, value_scratch_, ticket);
        observer_.event("read", table, key.size() + value_scratch_.size());
    }
}

void StreamLoop::reset_receive_state() {
    // After a reconnect the server sends every unacknowledged transaction again, streamed ones
    // from their first segment.
    in_transaction_ = false;
    skipping_ = false;
    in_stream_ = false;
    streams_.clear();
    tracker_->set_transaction_open(false);
    buffer_.clear();
}

void StreamLoop::publish_message(const pgoutput::LogicalMessage& m, const CommitInfo* commit,
                                 std::int64_t captured_time, std::uint64_t seq,
                                 std::optional<ack::TxnTicket> ticket) {
    encode::MessageEvent e;
    e.prefix = m.prefix;
    e.content = m.content;
    e.transactional = m.transactional;
    e.captured_time = captured_time;
    e.lsn = m.lsn;
    if (commit != nullptr) {
        e.commit_time = commit->commit_time;
        e.xid = commit->xid;
        e.commit_lsn = commit->end_lsn;
        e.seq = seq;
    }
    try {
        encoder_.encode_message(e);
    } catch (const std::exception& ex) {
        throw StreamFailure("cannot encode the logical decoding message at " + format_lsn(m.lsn) +
                            ": " + ex.what());
    }
    const bool own_ticket = !ticket.has_value();
    const ack::TxnTicket t =
        own_ticket ? tracker_->open_transaction(std::max(m.lsn, last_enqueued_end_)) : *ticket;
    tracker_->add_events(t, 1);
    try {
        produce(messages_topic_, t);
    } catch (...) {
        if (own_ticket) {
            tracker_->abandon(t);
        }
        throw;
    }
    if (own_ticket) {
        tracker_->seal(t);
    }
    observer_.event("message", "(messages)", encoder_.key().size() + encoder_.value().size());
}

void StreamLoop::publish_transaction(source::TransactionBuffer& buffer, const CommitInfo& commit,
                                     bool streamed,
                                     const std::unordered_set<pgoutput::Xid>* aborted) {
    const ack::TxnTicket ticket = tracker_->open_transaction(commit.end_lsn, commit.commit_time);
    snapshots_.on_commit(commit.xid);
    std::vector<std::pair<SnapshotCoordinator::PendingChunk*, std::uint64_t>> chunks;
    try {
        std::uint64_t seq = 0;
        const pgoutput::DecodeOptions options{options_.proto_version, streamed};
        buffer.replay([&](const source::TransactionBuffer::Entry& entry) {
            const auto type = static_cast<char>(entry.bytes[0]);
            // A change of an aborted subtransaction is dropped; its Relation and Type messages
            // are kept: the server does not send them again for the same transaction.
            if (aborted != nullptr && type != 'R' && type != 'Y' && aborted->contains(entry.xid)) {
                return;
            }
            const pgoutput::Message message = pgoutput::decode(entry.bytes, options);
            auto meta = [&] {
                return changeset::EventMeta{commit.commit_time, entry.captured_time, commit.xid,
                                            entry.lsn,          commit.end_lsn,      seq++};
            };
            if (const auto* r = std::get_if<pgoutput::Relation>(&message)) {
                define_relation(*r);
            } else if (const auto* m = std::get_if<pgoutput::LogicalMessage>(&message);
                       m != nullptr && m->prefix == snapshot::kWatermarkPrefix) {
                if (auto* chunk = snapshots_.on_watermark(m->content)) {
                    const std::uint64_t first = seq;
                    emit_chunk(*chunk, commit, entry.lsn, seq, ticket);
                    chunks.emplace_back(chunk, seq - first);
                }
            } else if (const auto* ins = std::get_if<pgoutput::Insert>(&message)) {
                if (ignored_.contains(ins->relation_oid)) {
                    return;
                }
                changeset::build_insert(relations_.get(ins->relation_oid), *ins, change_);
                emit(change_, meta(), ticket);
            } else if (const auto* upd = std::get_if<pgoutput::Update>(&message)) {
                if (ignored_.contains(upd->relation_oid)) {
                    return;
                }
                changeset::build_update(relations_.get(upd->relation_oid), *upd, change_);
                emit(change_, meta(), ticket);
            } else if (const auto* del = std::get_if<pgoutput::Delete>(&message)) {
                if (ignored_.contains(del->relation_oid)) {
                    return;
                }
                changeset::build_delete(relations_.get(del->relation_oid), *del, change_);
                emit(change_, meta(), ticket);
            } else if (const auto* tr = std::get_if<pgoutput::Truncate>(&message)) {
                for (auto oid : tr->relation_oids) {
                    if (ignored_.contains(oid)) {
                        continue;
                    }
                    changeset::build_truncate(relations_.get(oid), change_);
                    emit(change_, meta(), ticket);
                }
            } else if (const auto* m = std::get_if<pgoutput::LogicalMessage>(&message)) {
                if (config_.postgres.messages && !heartbeat(m->prefix)) {
                    publish_message(*m, &commit, entry.captured_time, seq++, ticket);
                }
            } else if (!std::holds_alternative<pgoutput::Type>(message) &&
                       !std::holds_alternative<pgoutput::Origin>(message)) {
                // Types are resolved from the catalog when a Relation names them.
                throw StreamFailure("unexpected pgoutput message '" + std::string(1, type) +
                                    "' inside transaction " + std::to_string(commit.xid) + " at " +
                                    format_lsn(entry.lsn));
            }
        });
    } catch (...) {
        tracker_->abandon(ticket);  // sent again in full after a reconnect or restart
        throw;
    }
    tracker_->seal(ticket);
    last_enqueued_end_ = commit.end_lsn;
    for (const auto& [chunk, rows] : chunks) {
        snapshots_.on_chunk_published(chunk, commit.end_lsn, rows);
    }
}

void StreamLoop::handle_stream_message(char type, const source::XLogData& x) {
    const pgoutput::DecodeOptions options{options_.proto_version, false};
    if (type == 'S') {
        const auto start = std::get<pgoutput::StreamStart>(pgoutput::decode(x.payload, options));
        if (in_stream_ || in_transaction_) {
            throw StreamFailure("Stream Start inside another transaction at " +
                                format_lsn(x.start));
        }
        in_stream_ = true;
        stream_xid_ = start.xid;
        auto it = streams_.find(start.xid);
        if (it == streams_.end()) {
            streams_.emplace(start.xid, StreamedTxn{source::TransactionBuffer(
                                                        budget_, config_.buffer.spill_directory),
                                                    {}});
        } else if (start.first_segment) {
            it->second.buffer.clear();
            it->second.aborted_subxids.clear();
        }
        tracker_->set_transaction_open(true);
    } else if (type == 'E') {
        if (!in_stream_) {
            throw StreamFailure("Stream Stop without Stream Start at " + format_lsn(x.start));
        }
        in_stream_ = false;
    } else if (type == 'c') {
        const auto c = std::get<pgoutput::StreamCommit>(pgoutput::decode(x.payload, options));
        auto it = streams_.find(c.xid);
        if (it == streams_.end()) {
            throw StreamFailure("Stream Commit for transaction " + std::to_string(c.xid) +
                                " that was never streamed, at " + format_lsn(x.start));
        }
        if (c.end_lsn <= last_enqueued_end_) {
            spdlog::debug("streamed transaction {} ({}) was already handed to Kafka: skipped",
                          c.xid, format_lsn(c.end_lsn));
            snapshots_.on_commit(c.xid);
        } else {
            spdlog::debug("streamed transaction {} committed: {} messages, {} bytes{}", c.xid,
                          it->second.buffer.size(), it->second.buffer.bytes(),
                          it->second.buffer.spilled() ? " (spilled to disk)" : "");
            publish_transaction(it->second.buffer, {c.xid, c.commit_time, c.end_lsn}, true,
                                &it->second.aborted_subxids);
        }
        streams_.erase(it);
        tracker_->set_transaction_open(!streams_.empty());
    } else {  // 'A'
        const auto a = std::get<pgoutput::StreamAbort>(pgoutput::decode(x.payload, options));
        auto it = streams_.find(a.xid);
        if (it == streams_.end()) {
            return;  // nothing of it was kept (streamed before a reconnect)
        }
        if (a.subxid == a.xid) {
            spdlog::debug("streamed transaction {} aborted: {} messages discarded", a.xid,
                          it->second.buffer.size());
            streams_.erase(it);
            tracker_->set_transaction_open(!streams_.empty());
        } else {
            it->second.aborted_subxids.insert(a.subxid);
        }
    }
}

void StreamLoop::handle(const source::XLogData& x) {
    last_received_ = std::max(last_received_, x.start);
    server_wal_end_ = std::max(server_wal_end_, x.wal_end);
    if (x.payload.empty()) {
        throw StreamFailure("empty XLogData message at " + format_lsn(x.start));
    }
    const auto type = static_cast<char>(x.payload[0]);
    if (type == 'S' || type == 'E' || type == 'c' || type == 'A') {
        handle_stream_message(type, x);
        return;
    }
    if (in_stream_) {
        // A change of a streamed transaction: the (sub)transaction xid follows the type byte.
        if (x.payload.size() < 5) {
            throw StreamFailure(std::string("truncated streamed message '") + type + "' at " +
                                format_lsn(x.start));
        }
        streams_.at(stream_xid_)
            .buffer.append(x.start, x.received_time, read_u32(x.payload, 1), x.payload);
        return;
    }
    const pgoutput::DecodeOptions options{options_.proto_version, false};
    if (type == 'B') {
        if (in_transaction_) {
            throw StreamFailure("Begin inside transaction " + std::to_string(begin_.xid));
        }
        begin_ = std::get<pgoutput::Begin>(pgoutput::decode(x.payload, options));
        in_transaction_ = true;
        // The commit record starts before the commit's end: a transaction whose commit starts
        // before the last enqueued end was handed to Kafka before a reconnect.
        skipping_ = begin_.final_lsn < last_enqueued_end_;
        tracker_->set_transaction_open(true);
        buffer_.clear();
    } else if (type == 'C') {
        const auto commit = std::get<pgoutput::Commit>(pgoutput::decode(x.payload, options));
        if (!in_transaction_) {
            throw StreamFailure("Commit without Begin at " + format_lsn(x.start));
        }
        if (skipping_ || commit.end_lsn <= last_enqueued_end_) {
            spdlog::debug("transaction {} ({}) was already handed to Kafka: skipped", begin_.xid,
                          format_lsn(commit.end_lsn));
            snapshots_.on_commit(begin_.xid);
        } else {
            publish_transaction(buffer_, {begin_.xid, begin_.commit_time, commit.end_lsn}, false,
                                nullptr);
        }
        in_transaction_ = false;
        skipping_ = false;
        tracker_->set_transaction_open(!streams_.empty());
        buffer_.clear();
    } else if (in_transaction_) {
        if (!skipping_) {
            buffer_.append(x.start, x.received_time, 0, x.payload);
        }
    } else {
        const pgoutput::Message message = pgoutput::decode(x.payload, options);
        if (const auto* r = std::get_if<pgoutput::Relation>(&message)) {
            define_relation(*r);
        } else if (const auto* m = std::get_if<pgoutput::LogicalMessage>(&message)) {
            // Non-transactional: published at once, whatever happens to the transaction
            // around it.
            if (config_.postgres.messages && !heartbeat(m->prefix) &&
                m->lsn >= last_enqueued_end_) {
                publish_message(*m, nullptr, x.received_time, 0, std::nullopt);
            }
        } else if (!std::holds_alternative<pgoutput::Type>(message)) {
            throw StreamFailure(std::string("unexpected pgoutput message '") + type +
                                "' outside a transaction at " + format_lsn(x.start));
        }
    }
}

void StreamLoop::handle(const source::Keepalive& k) {
    server_wal_end_ = std::max(server_wal_end_, k.wal_end);
    tracker_->on_keepalive(k.wal_end);
    if (k.reply_requested) {
        maybe_send_status(true);
    }
}

void StreamLoop::maybe_send_status(bool force, bool reading) {
    const auto now = Clock::now();
    if (!force && now - last_status_ < milliseconds(config_.postgres.status_interval_ms)) {
        return;
    }
    // A silent server: ask for a keepalive after half the read timeout; give up after all of
    // it. Not while back-pressure keeps us from reading the socket.
    const auto silent = now - last_server_message_;
    const milliseconds timeout(config_.postgres.read_timeout_ms);
    if (reading && silent > timeout) {
        throw source::PgError(
            "no message from PostgreSQL for " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silent).count()) +
                " s (postgres.read_timeout_ms): the server or the network is not answering",
            "");
    }
    const source::Lsn flush = tracker_->flush_lsn();
    stream_->send_status(std::max(last_received_, flush), flush, flush,
                         reading && silent > timeout / 2);
    if (flush != last_reported_flush_) {
        spdlog::debug("acknowledged up to {}", format_lsn(flush));
        last_reported_flush_ = flush;
    }
    last_status_ = now;
}

void StreamLoop::maybe_heartbeat() {
    const int interval = config_.postgres.heartbeat_interval_ms;
    const auto now = Clock::now();
    if (interval <= 0 || now - last_heartbeat_ < milliseconds(interval)) {
        return;
    }
    last_heartbeat_ = now;
    // A real commit in this database: the slot then has something to advance to even when
    // only other databases write (PostgreSQL 15 skips empty transactions).
    source::exec(catalog_conn_.get(), "SELECT pg_logical_emit_message(true, '" +
                                          std::string(kHeartbeatPrefix) + "', '')");
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
            auto r = source::exec(catalog_conn_.get(),
                                  "SELECT (pg_current_wal_lsn() - restart_lsn)::int8 FROM "
                                  "pg_replication_slots WHERE slot_name = $1",
                                  {config_.postgres.slot}, config_.postgres.read_timeout_ms);
            if (PQntuples(r.get()) == 1 && !PQgetisnull(r.get(), 0, 0)) {
                retained_wal_bytes_ = std::stoll(PQgetvalue(r.get(), 0, 0));
            }
        } catch (const source::PgError& e) {
            spdlog::debug("slot query failed: {}", e.what());
        }
    }
    if (progress_bar_) {
        draw_snapshot_progress(false);
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
    const std::size_t left = snapshots_.tables_remaining();
    const int percent = total > 0
                            ? static_cast<int>(std::min<std::int64_t>(100, done * 100 / total))
                            : (left == 0 ? 100 : 0);
    std::string bar(static_cast<std::size_t>(percent / 4), '#');
    bar.resize(25, '.');
    std::fprintf(stderr, "\rsnapshot [%s] %3d%%  %lld rows, %zu tables left%s", bar.c_str(),
                 percent, static_cast<long long>(done), left, final_line ? "\n" : "");
    std::fflush(stderr);
}

void StreamLoop::wait_for_input(int timeout_ms) {
    pollfd fds[2] = {{stream_->socket(), POLLIN, 0}, {sink_->wakeup_fd(), POLLIN, 0}};
    ::poll(fds, 2, timeout_ms);
    if (fds[1].revents & POLLIN) {
        sink_->drain_wakeup_fd();
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
            last_server_message_ = Clock::now();
            std::visit([this](const auto& e) { handle(e); }, event);
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

void StreamLoop::shutdown(bool send_final_status) {
    observer_.state("stopping");
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
                     format_lsn(tracker_->flush_lsn()), events_published_);
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
        sink_.emplace(sink::SinkSettings{config_.kafka.brokers, config_.kafka.properties},
                      [this](const sink::DeliveryReport& r) { on_delivery(r); });
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
        } catch (const source::PgError& e) {
            const PgErrorClass cls = classify_pg_error(e.sqlstate(), e.what());
            if (!cls.transient) {
                spdlog::error("PostgreSQL: {}", e.what());
                spdlog::error("what to do: {}", cls.advice);
                shutdown(false);
                return kExitFailure;
            }
            observer_.streaming(false);
            observer_.reconnect("postgres");
            stream_.reset();
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
            } catch (const std::exception& f) {
                spdlog::error("{}", f.what());
                shutdown(false);
                return kExitFailure;
            }
        } catch (const std::exception& e) {
            spdlog::error("{}", e.what());
            // The watermark is safe to report: it only covers what Kafka acknowledged.
            shutdown(true);
            return kExitFailure;
        }
    }
}

}  // namespace

int run_stream(const config::Config& config, StopFlags flags, StreamObserver& observer) {
    StreamLoop loop(config, flags, observer);
    return loop.run();
}

}  // namespace pgcs::daemon
