// The change path of the stream loop: XLogData -> transactions (buffered until their commit)
// -> pgoutput messages -> changesets -> JSON -> Kafka, each transaction under one acknowledgement
// ticket; snapshot chunks published at their watermark.
#include "daemon/stream_loop_impl.hpp"

namespace pgcs::daemon::detail {

namespace {

std::uint32_t read_u32(std::span<const std::byte> b, std::size_t at) {
    return (std::to_integer<std::uint32_t>(b[at]) << 24) |
           (std::to_integer<std::uint32_t>(b[at + 1]) << 16) |
           (std::to_integer<std::uint32_t>(b[at + 2]) << 8) |
           std::to_integer<std::uint32_t>(b[at + 3]);
}

}  // namespace

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

const std::string& StreamLoop::topic_for(const changeset::RelationInfo& relation) {
    auto topic = topics_.find(relation.oid);
    if (topic == topics_.end()) {  // a snapshot of a table the stream has not described yet
        names_[relation.oid] = relation.schema + "." + relation.name;
        topic =
            topics_.emplace(relation.oid, config_.kafka.topic_prefix + "." + names_[relation.oid])
                .first;
    }
    return topic->second;
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
    produce(topic_for(*change.relation), ticket);
    observer_.events(changeset::op_name(change.op), names_[oid], 1,
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
    const std::string& topic = topic_for(*chunk.relation);
    const std::string& table = names_[chunk.relation->oid];
    meta_head_.clear();  // the same for every row but seq
    encode::ChangesetEncoder::event_meta_head(
        meta_head_, {commit.commit_time, chunk.read_time, commit.xid, lsn, commit.end_lsn, 0});
    std::uint64_t events = 0;
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < rows.encoded.size(); ++i) {
        if (chunk.dropped[i]) {
            continue;
        }
        const std::string_view prefix = rows.encoded.value(i);
        value_scratch_.assign(prefix.data(), prefix.size());
        value_scratch_.append(meta_head_);
        encode::ChangesetEncoder::append_seq(value_scratch_, seq++);
        const std::string_view key = rows.encoded.key(i);
        tracker_->add_events(ticket, 1);
        produce(topic, rows.encoded.has_key, key, value_scratch_, ticket);
        ++events;
        bytes += key.size() + value_scratch_.size();
    }
    observer_.events("read", table, events, bytes);
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
    observer_.events("message", "(messages)", 1, encoder_.key().size() + encoder_.value().size());
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

}  // namespace pgcs::daemon::detail
