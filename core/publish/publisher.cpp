// The publisher: a committed transaction's messages -> changesets -> JSON -> Kafka, under one
// acknowledgement ticket; snapshot chunks at their watermark. See publisher.hpp.
#include "core/publish/publisher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/changeset/key_change.hpp"
#include "core/source/missing_columns.hpp"
#include "core/source/stream_failure.hpp"

namespace pgcs::publish {

using source::StreamFailure;

Publisher::Publisher(Settings settings, changeset::TypeRegistry& types,
                     SnapshotCoordinator& snapshots, EventObserver& observer,
                     std::function<void()> wait_for_room)
    : settings_(std::move(settings)),
      types_(types),
      snapshots_(snapshots),
      observer_(observer),
      wait_for_room_(std::move(wait_for_room)),
      relations_(settings_.topic_prefix, settings_.binary, types),
      encoder_(encode::make_event_encoder(settings_.format, types_)) {}

void Publisher::bind(sink::EventSink& sink, ack::AckTracker& tracker, Lsn handed_out) {
    sink_ = &sink;
    tracker_ = &tracker;
    handed_out_ = handed_out;
    encoder_->on_commit(handed_out);
}

void Publisher::set_catalog(const source::Catalog& catalog) {
    catalog_ = &catalog;
    relations_.set_catalog(catalog);
    if (const char* db = PQdb(catalog.connection())) {
        encoder_->set_database(db);
    }
}

void Publisher::produce(const std::string& topic, ack::TxnTicket ticket, std::int32_t partition) {
    produce(topic, encoder_->has_key(), encoder_->key(), encoder_->value(), ticket, partition);
}

void Publisher::produce(const std::string& topic, bool has_key, std::string_view key,
                        std::string_view value, ack::TxnTicket ticket, std::int32_t partition) {
    if (batch_ != nullptr) {
        batch_->before_produce();
    }
    try {
        while (sink_->produce(topic, has_key, key, value, ticket, partition) ==
               sink::ProduceResult::QueueFull) {
            wait_for_room_();  // back-pressure: the stream is not read meanwhile
        }
    } catch (const sink::EventTooLarge& e) {
        HaltInfo h = sink::halt_info(e.limit(), topic, has_key, key, e.bytes(), e.what());
        h.table = table_of_topic(topic);
        h.end_lsn = tracker_->end_lsn(ticket);
        throw EventRefused(std::move(h));
    }
    ++events_published_;
    if (batch_ != nullptr) {
        batch_->produced(1);
    }
}

void Publisher::on_relation(const pgoutput::Relation& relation) {
    const auto& info =
        relations_.define(relation, encoder_->wants_not_null(), encoder_->keys_by_primary_key());
    if (snapshots_.is_progress_table(info.schema, info.name)) {
        ignored_.insert(relation.oid);  // a publication of every table includes it
    } else {
        ignored_.erase(relation.oid);
    }
    spdlog::debug("relation {} (OID {}, replica identity '{}', {} columns)",
                  relations_.name_of(relation.oid), info.oid, info.replica_identity,
                  info.columns.size());
}

std::string Publisher::table_of_topic(std::string_view topic) const {
    if (topic == settings_.messages_topic) {
        return "(messages)";
    }
    return relations_.table_of_topic(topic);
}

void Publisher::emit(const changeset::Changeset& change, const changeset::EventMeta& meta,
                     ack::TxnTicket ticket, std::int32_t partition) {
    try {
        encoder_->encode(change, meta);
    } catch (const std::exception& e) {
        throw StreamFailure("cannot encode the change at " + format_lsn(meta.lsn) + " on " +
                            change.relation->schema + "." + change.relation->name + ": " +
                            e.what());
    }
    const auto oid = change.relation->oid;
    const std::string& topic = relations_.topic_for(*change.relation);
    if (encoder_->publishes(change.op)) {  // the format may skip some (Debezium: truncates)
        tracker_->add_events(ticket, 1);
        produce(topic, ticket, partition);
        observer_.events(changeset::op_name(change.op), relations_.name_of(oid), 1,
                         encoder_->key().size() + encoder_->value().size());
        if (change.op == changeset::Op::Deleted && settings_.tombstones && encoder_->has_key()) {
            // Same key, so the same partition: a compacted topic then forgets the key. Counted
            // in the transaction's ticket like an event (acknowledged once Kafka has it too).
            tracker_->add_events(ticket, 1);
            while (sink_->produce_tombstone(topic, encoder_->key(), ticket) ==
                   sink::ProduceResult::QueueFull) {
                wait_for_room_();
            }
            if (batch_ != nullptr) {
                batch_->produced(1);
            }
        }
    }
    if (change.op != changeset::Op::Read && snapshots_.watches(oid)) {
        snapshots_.on_stream_change(change, encoder_->has_key() ? encoder_->key() : "",
                                    encoder_->row_patch());
    }
}

void Publisher::emit_update(const changeset::RelationInfo& relation, const pgoutput::Update& update,
                            changeset::EventMeta meta, std::uint64_t& seq, ack::TxnTicket ticket) {
    changeset::build_update(relation, update, change_);
    if (!changeset::changes_key(change_)) {
        meta.seq = seq++;
        emit(change_, meta, ticket);
        return;
    }
    // README, "Key changes": deleted under the old key (and its tombstone), then added under
    // the new key, with the columns PostgreSQL left out read from the table.
    changeset::split_key_change(change_, deleted_, added_);
    if (encoder_->fills_key_change_toast()) {
        missing_row_ = source::read_missing_columns(catalog_->connection(), added_);
    }
    meta.seq = seq++;
    emit(deleted_, meta, ticket);
    meta.seq = seq++;
    emit(added_, meta, ticket);
    missing_row_.reset();
}

void Publisher::emit_truncate(const changeset::RelationInfo& relation, changeset::EventMeta meta,
                              std::uint64_t& seq, ack::TxnTicket ticket) {
    // A null key goes to any partition: one event on each, so that a consumer of any partition
    // learns of it. Each has its own seq: (commit_lsn, seq) stays unique.
    changeset::build_truncate(relation, change_);
    const int partitions =
        sink_->wait_for_partition_count(relations_.topic_for(relation), wait_for_room_);
    for (int p = 0; p < partitions; ++p) {
        meta.seq = seq++;
        emit(change_, meta, ticket, p);
    }
}

void Publisher::emit_chunk(SnapshotCoordinator::PendingChunk& chunk, const CommitInfo& commit,
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
    const std::string& topic = relations_.topic_for(*chunk.relation);
    const std::string& table = relations_.name_of(chunk.relation->oid);
    rows_.start(*encoder_, chunk,
                {commit.commit_time, chunk.read_time, commit.xid, lsn, commit.end_lsn, 0});
    std::uint64_t events = 0;
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < rows.encoded.size(); ++i) {
        const auto value = rows_.value(i, seq);
        if (!value) {
            continue;
        }
        ++seq;
        const std::string_view key = rows.encoded.key(i);
        tracker_->add_events(ticket, 1);
        produce(topic, rows.encoded.has_key, key, *value, ticket);
        ++events;
        bytes += key.size() + value->size();
    }
    observer_.events("read", table, events, bytes);
}

void Publisher::publish_message(const pgoutput::LogicalMessage& m, const CommitInfo* commit,
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
        encoder_->encode_message(e);
    } catch (const std::exception& ex) {
        throw StreamFailure("cannot encode the logical decoding message at " + format_lsn(m.lsn) +
                            ": " + ex.what());
    }
    const bool own_ticket = !ticket.has_value();
    const ack::TxnTicket t =
        own_ticket ? tracker_->open_transaction(std::max(m.lsn, handed_out_)) : *ticket;
    tracker_->add_events(t, 1);
    try {
        produce(settings_.messages_topic, t);
    } catch (...) {
        if (own_ticket) {
            abandon(t);
        }
        throw;
    }
    if (own_ticket) {
        finish(t, std::max(m.lsn, handed_out_));
    }
    observer_.events("message", "(messages)", 1, encoder_->key().size() + encoder_->value().size());
}

void Publisher::on_skipped(pgoutput::Xid xid, Lsn end_lsn) {
    spdlog::debug("transaction {} ({}) was already handed to Kafka: skipped", xid,
                  format_lsn(end_lsn));
    snapshots_.on_commit(xid);
    encoder_->on_commit(end_lsn);
}

void Publisher::on_aborted(pgoutput::Xid xid, std::size_t messages) {
    spdlog::debug("streamed transaction {} aborted: {} messages discarded", xid, messages);
}

void Publisher::on_unreported_subtransactions(pgoutput::Xid xid,
                                              const source::SubtransactionVerdict& verdict) {
    if (!verdict.aborted.empty()) {
        spdlog::warn(
            "streamed transaction {}: PostgreSQL sent changes of {} rolled-back "
            "subtransaction(s) (first {}) without a Stream Abort; pg_xact_status() says they "
            "aborted, so their changes are not published",
            xid, verdict.aborted.size(), verdict.aborted.front());
    }
    if (!verdict.unknown.empty()) {
        spdlog::warn(
            "streamed transaction {}: the server no longer knows whether {} subtransaction(s) "
            "(first {}) committed (pg_xact_status() is null: older than its commit log); their "
            "changes are published as the stream sent them",
            xid, verdict.unknown.size(), verdict.unknown.front());
    }
}

void Publisher::on_transaction(const source::CommittedTransaction& txn) {
    if (txn.streamed) {
        spdlog::debug("streamed transaction {} committed: {} messages, {} bytes{}", txn.xid,
                      txn.messages(), txn.bytes(), txn.spilled() ? " (spilled to disk)" : "");
    }
    const CommitInfo commit{txn.xid, txn.commit_time, txn.end_lsn};
    const ack::TxnTicket ticket = tracker_->open_transaction(commit.end_lsn, commit.commit_time);
    snapshots_.on_commit(commit.xid);
    std::vector<std::pair<PendingChunk*, std::uint64_t>> chunks;
    try {
        std::uint64_t seq = 0;
        const pgoutput::DecodeOptions options = txn.decode_options();
        txn.replay([&](const source::TransactionBuffer::Entry& entry) {
            const pgoutput::Message message = pgoutput::decode(entry.bytes, options);
            const changeset::EventMeta here{commit.commit_time, entry.captured_time, commit.xid,
                                            entry.lsn,          commit.end_lsn,      0};
            auto meta = [&] {
                changeset::EventMeta m = here;
                m.seq = seq++;
                return m;
            };
            if (const auto* r = std::get_if<pgoutput::Relation>(&message)) {
                on_relation(*r);
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
                emit_update(relations_.get(upd->relation_oid), *upd, here, seq, ticket);
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
                    emit_truncate(relations_.get(oid), here, seq, ticket);
                }
            } else if (const auto* m = std::get_if<pgoutput::LogicalMessage>(&message)) {
                if (publishes(*m)) {
                    publish_message(*m, &commit, entry.captured_time, seq++, ticket);
                }
            } else if (const auto* ty = std::get_if<pgoutput::Type>(&message)) {
                relations_.on_type(
                    *ty);  // its name, for a type dropped before its Relation is read
            } else if (!std::holds_alternative<pgoutput::Origin>(message)) {
                throw StreamFailure("unexpected pgoutput message '" +
                                    std::string(1, static_cast<char>(entry.bytes[0])) +
                                    "' inside transaction " + std::to_string(commit.xid) + " at " +
                                    format_lsn(entry.lsn));
            }
        });
    } catch (...) {
        abandon(ticket);  // sent again in full after a reconnect or restart
        throw;
    }
    finish(ticket, commit.end_lsn);
    handed_out_ = commit.end_lsn;
    encoder_->on_commit(commit.end_lsn);
    for (const auto& [chunk, rows] : chunks) {
        snapshots_.on_chunk_published(chunk, commit.end_lsn, rows);
    }
}

void Publisher::on_message(const pgoutput::LogicalMessage& message, std::int64_t received_time) {
    // Non-transactional: published at once, whatever happens to the transaction around it.
    if (publishes(message)) {
        publish_message(message, nullptr, received_time, 0, std::nullopt);
    }
}

void Publisher::publish_exported(const source::ExportedSnapshot& exported) {
    const CommitInfo commit{0, source::pg_now(), exported.consistent_point};
    const ack::TxnTicket ticket = tracker_->open_transaction(commit.end_lsn, commit.commit_time);
    std::uint64_t seq = 0;
    try {
        snapshots_.copy_exported(exported, [&](PendingChunk& rows) {
            emit_chunk(rows, commit, commit.end_lsn, seq, ticket);
        });
    } catch (...) {
        abandon(ticket);
        throw;
    }
    finish(ticket, commit.end_lsn);
}

void Publisher::finish(ack::TxnTicket ticket, Lsn end_lsn) {
    if (batch_ != nullptr) {
        batch_->finished(*tracker_, ticket, end_lsn);  // sealed at its Kafka commit
    } else {
        tracker_->seal(ticket);
    }
}

void Publisher::abandon(ack::TxnTicket ticket) {
    tracker_->abandon(ticket);
    if (batch_ != nullptr && batch_->open()) {
        // Part of this transaction is in the open Kafka transaction: none of it may commit.
        batch_->abort(*tracker_);
    }
}

}  // namespace pgcs::publish
