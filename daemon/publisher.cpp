// The publisher: a committed transaction's messages -> changesets -> JSON -> Kafka, under one
// acknowledgement ticket; snapshot chunks at their watermark. See publisher.hpp.
#include "daemon/publisher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/base/topic_name.hpp"
#include "core/changeset/key_change.hpp"
#include "core/snapshot/row_patch.hpp"
#include "core/source/missing_columns.hpp"
#include "core/source/stream_failure.hpp"

namespace pgcs::daemon {

using source::StreamFailure;

HaltInfo halt_info(sink::SizeLimit limit, std::string_view topic, bool has_key,
                   std::string_view key, std::size_t bytes, std::string what) {
    HaltInfo h;
    switch (limit) {
        case sink::SizeLimit::Broker:
            h.reason = "broker_message_size";
            break;
        case sink::SizeLimit::Producer:
            h.reason = "producer_message_max_bytes";
            h.restart_needed = true;
            break;
        case sink::SizeLimit::Queue:
            h.reason = "producer_queue_size";
            h.restart_needed = true;
            break;
    }
    h.topic = std::string(topic);
    if (has_key) {
        h.key = std::string(key.substr(0, 256));
    }
    h.bytes = bytes;
    h.what = std::move(what);
    return h;
}

Publisher::Publisher(Settings settings, changeset::TypeRegistry& types,
                     SnapshotCoordinator& snapshots, StreamObserver& observer,
                     std::function<void()> wait_for_room)
    : settings_(std::move(settings)),
      types_(types),
      snapshots_(snapshots),
      observer_(observer),
      wait_for_room_(std::move(wait_for_room)),
      encoder_(encode::make_event_encoder(settings_.format, types_)) {}

void Publisher::bind(sink::KafkaSink& sink, ack::AckTracker& tracker, Lsn handed_out) {
    sink_ = &sink;
    tracker_ = &tracker;
    handed_out_ = handed_out;
    encoder_->on_commit(handed_out);
}

void Publisher::set_catalog(const source::Catalog& catalog) {
    catalog_ = &catalog;
    if (const char* db = PQdb(catalog.connection())) {
        encoder_->set_database(db);
    }
}

void Publisher::on_type(const pgoutput::Type& type) {
    if (type_names_.size() >= 4096 && !type_names_.contains(type.oid)) {
        type_names_.clear();  // many types: start over rather than grow
    }
    type_names_[type.oid] = std::string(type.name);
}

void Publisher::register_dropped_type(std::uint32_t oid) {
    const auto known = type_names_.find(oid);
    changeset::CatalogType t;
    t.oid = oid;
    t.name = known != type_names_.end() ? known->second : "unknown type OID " + std::to_string(oid);
    if (settings_.binary) {
        // Its values come in their binary send form, which only the type's functions could
        // print: written as bytes (base64), like a domain over bytea.
        t.typtype = 'd';
        t.base_oid = 17;  // bytea
    }
    types_.add(t);
    spdlog::warn(
        "type {} (OID {}) is no longer in the catalog (dropped since the transaction "
        "being published used it): its values are written as {}",
        t.name, oid,
        settings_.binary ? "the base64 of their binary send form"
                         : "PostgreSQL's text form (a string)");
}

std::vector<std::string> Publisher::catalog_key(const pgoutput::Relation& relation) {
    if (!changeset::RelationCache::needs_catalog_key(relation.replica_identity)) {
        return {};  // DEFAULT, INDEX: pgoutput flags the key columns itself
    }
    // Asked once per Relation message: the answer stays with this definition of the table
    // until the next Relation message for it (README, "Keys under REPLICA IDENTITY FULL").
    if (auto pk = catalog_->primary_key_if_exists(relation.oid)) {
        return std::move(*pk);
    }
    const std::string name = std::string(relation.schema) + "." + std::string(relation.name);
    auto known = relations_.key_columns(relation.oid);
    const bool first = gone_tables_.insert(relation.oid).second;
    if (known) {
        if (first) {
            spdlog::info(
                "table {} (OID {}) is no longer in the catalog (dropped since the transaction "
                "being published changed it): its events keep the key of its earlier "
                "definition ({} column(s))",
                name, relation.oid, known->size());
        }
        return std::move(*known);
    }
    if (first) {
        spdlog::warn(
            "table {} (OID {}) is no longer in the catalog (dropped since the transaction being "
            "published changed it) and has REPLICA IDENTITY {}: the stream does not say which "
            "columns were its primary key, so its events have a null key",
            name, relation.oid, relation.replica_identity == 'f' ? "FULL" : "NOTHING");
    }
    return {};
}

void Publisher::on_relation(const pgoutput::Relation& relation) {
    for (const auto& c : relation.columns) {
        if (!catalog_->resolve_type(c.type_oid, types_)) {
            register_dropped_type(c.type_oid);
        }
    }
    const auto& info = relations_.define(relation, catalog_key(relation), types_);
    if (encoder_->wants_not_null()) {
        relations_.set_not_null(relation.oid, catalog_->not_null_columns(relation.oid));
    }
    if (encoder_->keys_by_primary_key()) {
        // A table dropped meanwhile keeps the key the stream (or catalog_key) gave it.
        if (auto key = catalog_->primary_or_unique_key(relation.oid)) {
            relations_.set_format_key(relation.oid, *key);
        }
    }
    if (snapshots_.is_progress_table(info.schema, info.name)) {
        ignored_.insert(relation.oid);  // a publication of every table includes it
    } else {
        ignored_.erase(relation.oid);
    }
    names_[relation.oid] = info.schema + "." + info.name;
    topics_[relation.oid] = base::table_topic(settings_.topic_prefix, info.schema, info.name);
    spdlog::debug("relation {} (OID {}, replica identity '{}', {} columns)", names_[relation.oid],
                  info.oid, info.replica_identity, info.columns.size());
}

const std::string& Publisher::topic_for(const changeset::RelationInfo& relation) {
    auto topic = topics_.find(relation.oid);
    if (topic == topics_.end()) {  // a snapshot of a table the stream has not described yet
        names_[relation.oid] = relation.schema + "." + relation.name;
        topic = topics_
                    .emplace(relation.oid, base::table_topic(settings_.topic_prefix,
                                                             relation.schema, relation.name))
                    .first;
    }
    return topic->second;
}

void Publisher::produce(const std::string& topic, ack::TxnTicket ticket, std::int32_t partition) {
    produce(topic, encoder_->has_key(), encoder_->key(), encoder_->value(), ticket, partition);
}

void Publisher::produce(const std::string& topic, bool has_key, std::string_view key,
                        std::string_view value, ack::TxnTicket ticket, std::int32_t partition) {
    try {
        while (sink_->produce(topic, has_key, key, value, ticket, partition) ==
               sink::ProduceResult::QueueFull) {
            wait_for_room_();  // back-pressure: the stream is not read meanwhile
        }
    } catch (const sink::EventTooLarge& e) {
        HaltInfo h = halt_info(e.limit(), topic, has_key, key, e.bytes(), e.what());
        h.table = table_of_topic(topic);
        h.end_lsn = tracker_->end_lsn(ticket);
        throw EventRefused(std::move(h));
    }
    ++events_published_;
}

std::string Publisher::table_of_topic(std::string_view topic) const {
    if (topic == settings_.messages_topic) {
        return "(messages)";
    }
    for (const auto& [oid, name] : topics_) {  // only when halting: a scan is cheap enough
        if (name == topic) {
            const auto table = names_.find(oid);
            return table != names_.end() ? table->second : std::string(topic);
        }
    }
    return std::string(topic);
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
    const std::string& topic = topic_for(*change.relation);
    if (encoder_->publishes(change.op)) {  // the format may skip some (Debezium: truncates)
        tracker_->add_events(ticket, 1);
        produce(topic, ticket, partition);
        observer_.events(changeset::op_name(change.op), names_[oid], 1,
                         encoder_->key().size() + encoder_->value().size());
        if (change.op == changeset::Op::Deleted && settings_.tombstones && encoder_->has_key()) {
            // Same key, so the same partition: a compacted topic then forgets the key. Counted
            // in the transaction's ticket like an event (acknowledged once Kafka has it too).
            tracker_->add_events(ticket, 1);
            while (sink_->produce_tombstone(topic, encoder_->key(), ticket) ==
                   sink::ProduceResult::QueueFull) {
                wait_for_room_();
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
    const int partitions = sink_->wait_for_partition_count(topic_for(relation), wait_for_room_);
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
    const std::string& topic = topic_for(*chunk.relation);
    const std::string& table = names_[chunk.relation->oid];
    meta_head_.clear();  // the same for every row but seq
    encoder_->snapshot_meta_head(
        meta_head_, *chunk.relation,
        {commit.commit_time, chunk.read_time, commit.xid, lsn, commit.end_lsn, 0});
    open_head_.clear();
    encoder_->snapshot_open(open_head_, *chunk.relation);
    std::uint64_t events = 0;
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < rows.encoded.size(); ++i) {
        if (chunk.dropped[i]) {
            continue;
        }
        const std::string_view prefix = rows.encoded.value(i);
        const auto patch = chunk.patched.empty()
                               ? chunk.patched.end()
                               : chunk.patched.find(static_cast<std::uint32_t>(i));
        value_scratch_.assign(open_head_);
        if (patch != chunk.patched.end()) {  // the values the stream carried, laid over the row
            patch->second.apply(prefix, value_scratch_);
        } else {
            value_scratch_.append(prefix.data(), prefix.size());
        }
        value_scratch_.append(meta_head_);
        encoder_->snapshot_seq(value_scratch_, seq++);
        const std::string_view key = rows.encoded.key(i);
        tracker_->add_events(ticket, 1);
        produce(topic, rows.encoded.has_key, key, value_scratch_, ticket);
        ++events;
        bytes += key.size() + value_scratch_.size();
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
            tracker_->abandon(t);
        }
        throw;
    }
    if (own_ticket) {
        tracker_->seal(t);
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
                on_type(*ty);  // its name, for a type dropped before its Relation is read
            } else if (!std::holds_alternative<pgoutput::Origin>(message)) {
                throw StreamFailure("unexpected pgoutput message '" +
                                    std::string(1, static_cast<char>(entry.bytes[0])) +
                                    "' inside transaction " + std::to_string(commit.xid) + " at " +
                                    format_lsn(entry.lsn));
            }
        });
    } catch (...) {
        tracker_->abandon(ticket);  // sent again in full after a reconnect or restart
        throw;
    }
    tracker_->seal(ticket);
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
        tracker_->abandon(ticket);
        throw;
    }
    tracker_->seal(ticket);
}

}  // namespace pgcs::daemon
