// Framing of the replication stream into committed transactions; see transaction_assembler.hpp.
// Message formats: https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
#include "core/source/transaction_assembler.hpp"

#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/source/stream_failure.hpp"

namespace pgcs::source {

using pgoutput::MessageType;

namespace {

// "Commit without Begin at 0/16B3748".
[[noreturn]] void framing_error(const std::string& what, Lsn at) {
    throw StreamFailure(what + " at " + format_lsn(at));
}

}  // namespace

void CommittedTransaction::replay(
    const std::function<void(const TransactionBuffer::Entry&)>& f) const {
    if (aborted_ == nullptr || aborted_->empty()) {
        buffer_->replay(f);
        return;
    }
    buffer_->replay([&](const TransactionBuffer::Entry& entry) {
        const MessageType type = pgoutput::message_type(entry.bytes);
        if (type != MessageType::Relation && type != MessageType::Type &&
            aborted_->contains(entry.xid)) {
            return;
        }
        f(entry);
    });
}

void TransactionAssembler::restart(int proto_version) {
    proto_version_ = proto_version;
    in_transaction_ = false;
    skipping_ = false;
    in_stream_ = false;
    streams_.clear();
    buffer_.clear();
}

void TransactionAssembler::hand_out(TransactionBuffer& buffer,
                                    const std::unordered_set<pgoutput::Xid>* aborted,
                                    pgoutput::Xid xid, pgoutput::PgTimestamp commit_time,
                                    Lsn end_lsn, bool streamed, TransactionHandler& handler) {
    CommittedTransaction txn(buffer, aborted);
    txn.xid = xid;
    txn.commit_time = commit_time;
    txn.end_lsn = end_lsn;
    txn.streamed = streamed;
    txn.proto_version_ = proto_version_;
    handler.on_transaction(txn);
    handed_out_ = end_lsn;
}

void TransactionAssembler::check_subtransactions(pgoutput::Xid xid, StreamedTxn& txn,
                                                 TransactionHandler& handler) {
    if (status_ == nullptr) {
        return;
    }
    std::vector<pgoutput::Xid> unreported;
    for (const pgoutput::Xid x : txn.xids) {
        if (x != xid && !txn.aborted_subxids.contains(x)) {
            unreported.push_back(x);
        }
    }
    if (unreported.empty()) {
        return;
    }
    std::sort(unreported.begin(), unreported.end());
    const SubtransactionVerdict verdict = status_->check(unreported);
    if (verdict.aborted.empty() && verdict.unknown.empty()) {
        return;
    }
    txn.aborted_subxids.insert(verdict.aborted.begin(), verdict.aborted.end());
    handler.on_unreported_subtransactions(xid, verdict);
}

void TransactionAssembler::feed(const XLogData& x, TransactionHandler& handler) {
    if (x.payload.empty()) {
        framing_error("empty XLogData message", x.start);
    }
    const MessageType type = pgoutput::message_type(x.payload);
    switch (type) {
        case MessageType::StreamStart:
        case MessageType::StreamStop:
        case MessageType::StreamCommit:
        case MessageType::StreamAbort:
            feed_stream_control(type, x, handler);
            return;
        default:
            break;
    }
    if (in_stream_) {
        // A message of a streamed transaction: kept under its (sub)transaction's xid.
        StreamedTxn& txn = streams_.at(stream_xid_);
        const pgoutput::Xid xid = pgoutput::stream_xid_of(x.payload);
        if (xid != txn.last_xid) {
            txn.xids.insert(xid);
            txn.last_xid = xid;
        }
        txn.buffer.append(x.start, x.received_time, xid, x.payload);
        return;
    }
    if (type == MessageType::Begin) {
        if (in_transaction_) {
            throw StreamFailure("Begin inside transaction " + std::to_string(begin_.xid) + " at " +
                                format_lsn(x.start));
        }
        begin_ = std::get<pgoutput::Begin>(pgoutput::decode(x.payload, options()));
        in_transaction_ = true;
        // The commit record starts before the commit's end: a transaction whose commit starts
        // before the newest end handed out was itself handed out before a reconnect.
        skipping_ = begin_.final_lsn < handed_out_;
        buffer_.clear();
    } else if (type == MessageType::Commit) {
        const auto commit = std::get<pgoutput::Commit>(pgoutput::decode(x.payload, options()));
        if (!in_transaction_) {
            framing_error("Commit without Begin", x.start);
        }
        in_transaction_ = false;
        if (skipping_ || commit.end_lsn <= handed_out_) {
            skipping_ = false;
            buffer_.clear();
            handler.on_skipped(begin_.xid, commit.end_lsn);
            return;
        }
        hand_out(buffer_, nullptr, begin_.xid, begin_.commit_time, commit.end_lsn, false, handler);
        buffer_.clear();
    } else if (in_transaction_) {
        if (!skipping_) {
            buffer_.append(x.start, x.received_time, 0, x.payload);
        } else if (type == MessageType::Relation) {
            // Sent once per session, before its first change: the transactions after this
            // skipped one need it (docs/CORRECTNESS.md, "Relations are redefined in the stream").
            handler.on_relation(
                std::get<pgoutput::Relation>(pgoutput::decode(x.payload, options())));
        }
    } else {
        feed_outside_transaction(x, handler);
    }
}

void TransactionAssembler::keep_relations(TransactionBuffer& buffer, TransactionHandler& handler) {
    buffer.replay([&](const TransactionBuffer::Entry& entry) {
        if (!entry.bytes.empty() &&
            static_cast<MessageType>(entry.bytes[0]) == MessageType::Relation) {
            handler.on_relation(std::get<pgoutput::Relation>(
                pgoutput::decode(entry.bytes, pgoutput::DecodeOptions{proto_version_, true})));
        }
    });
}

void TransactionAssembler::feed_outside_transaction(const XLogData& x,
                                                    TransactionHandler& handler) {
    const pgoutput::Message message = pgoutput::decode(x.payload, options());
    if (const auto* r = std::get_if<pgoutput::Relation>(&message)) {
        handler.on_relation(*r);
    } else if (const auto* m = std::get_if<pgoutput::LogicalMessage>(&message)) {
        if (m->lsn >= handed_out_) {  // else handed out before a reconnect
            handler.on_message(*m, x.received_time);
        }
    } else if (!std::holds_alternative<pgoutput::Type>(message)) {
        // Types are resolved when a Relation names them.
        framing_error("unexpected pgoutput message '" +
                          std::string(1, static_cast<char>(x.payload[0])) +
                          "' outside a transaction",
                      x.start);
    }
}

void TransactionAssembler::feed_stream_control(MessageType type, const XLogData& x,
                                               TransactionHandler& handler) {
    switch (type) {
        case MessageType::StreamStart: {
            const auto start =
                std::get<pgoutput::StreamStart>(pgoutput::decode(x.payload, options()));
            if (in_stream_ || in_transaction_) {
                framing_error("Stream Start inside another transaction", x.start);
            }
            in_stream_ = true;
            stream_xid_ = start.xid;
            auto it = streams_.find(start.xid);
            if (it == streams_.end()) {
                spdlog::debug("transaction {} is being streamed (its first part, at {})", start.xid,
                              format_lsn(x.start));
                streams_.emplace(
                    start.xid,
                    StreamedTxn{TransactionBuffer(budget_, spill_directory_), {}, {}, 0});
            } else if (start.first_segment) {
                it->second.buffer.clear();
                it->second.aborted_subxids.clear();
                it->second.xids.clear();
                it->second.last_xid = 0;
            }
            return;
        }
        case MessageType::StreamStop:
            pgoutput::decode(x.payload, options());
            if (!in_stream_) {
                framing_error("Stream Stop without Stream Start", x.start);
            }
            in_stream_ = false;
            return;
        case MessageType::StreamCommit: {
            const auto c = std::get<pgoutput::StreamCommit>(pgoutput::decode(x.payload, options()));
            auto it = streams_.find(c.xid);
            if (it == streams_.end()) {
                framing_error("Stream Commit for transaction " + std::to_string(c.xid) +
                                  " that was never streamed",
                              x.start);
            }
            if (c.end_lsn <= handed_out_) {
                keep_relations(it->second.buffer, handler);
                streams_.erase(it);
                handler.on_skipped(c.xid, c.end_lsn);
                return;
            }
            check_subtransactions(c.xid, it->second, handler);
            hand_out(it->second.buffer, &it->second.aborted_subxids, c.xid, c.commit_time,
                     c.end_lsn, true, handler);
            streams_.erase(it);
            return;
        }
        default: {  // StreamAbort
            const auto a = std::get<pgoutput::StreamAbort>(pgoutput::decode(x.payload, options()));
            auto it = streams_.find(a.xid);
            if (it == streams_.end()) {
                return;  // nothing of it was kept (streamed before a reconnect)
            }
            if (a.subxid == a.xid) {
                const std::size_t messages = it->second.buffer.size();
                streams_.erase(it);
                handler.on_aborted(a.xid, messages);
            } else {
                it->second.aborted_subxids.insert(a.subxid);
            }
            return;
        }
    }
}

}  // namespace pgcs::source
