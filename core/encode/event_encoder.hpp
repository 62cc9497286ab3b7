// The one interface the change path encodes through, whatever kafka.format says: a Changeset
// (or a logical decoding message) -> a Kafka key and value. ChangesetEncoder writes the
// contract's own format, DebeziumEncoder Debezium's; make_event_encoder() picks one.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/changeset/changeset.hpp"
#include "core/changeset/type_registry.hpp"
#include "core/encode/binary_text.hpp"
#include "core/encode/message_event.hpp"

namespace pgcs::encode {

class EventEncoder {
  public:
    virtual ~EventEncoder() = default;

    // How binary values of types not decoded here become text (pgoutput binary mode).
    virtual void set_binary_fallback(BinaryFallback fallback) = 0;

    // The source database's name, for formats that carry it (Debezium's source.db).
    virtual void set_database(std::string_view name) { (void)name; }

    // A transaction ended at `end_lsn` (whether or not it had events), or the slot's position
    // at start: Debezium's source.sequence names the last one.
    virtual void on_commit(std::uint64_t end_lsn) { (void)end_lsn; }

    // Whether the new row of a key change should get its unchanged TOAST columns read from the
    // table (the native format); Debezium writes its placeholder there instead.
    virtual bool fills_key_change_toast() const { return true; }

    // Whether the format needs each column's NOT NULL (RelationColumn::not_null).
    virtual bool wants_not_null() const { return false; }

    // Whether the format keys by the catalog's primary key, else its first unique index
    // (RelationColumn::is_format_key, Debezium's rule), not by the replica identity.
    virtual bool keys_by_primary_key() const { return false; }

    // Whether events of `op` are published at all (Debezium skips truncates by default).
    virtual bool publishes(changeset::Op op) const = 0;

    // Encodes one event. key() and value() are valid until the next call.
    virtual void encode(const changeset::Changeset& change, const changeset::EventMeta& meta) = 0;
    // The Kafka key of `change` read from its old row or its new row, in a buffer of its own.
    virtual std::string_view encode_key(const changeset::Changeset& change, bool from_before) = 0;
    // A logical decoding message; topic_suffix() is where it goes under the topic prefix when
    // the format fixes it (Debezium: "message"), empty when postgres.messages' topic applies.
    virtual void encode_message(const MessageEvent& message) = 0;

    virtual bool has_key() const = 0;
    virtual std::string_view key() const = 0;
    virtual std::string_view value() const = 0;
    // A JSON object whose "after" member is the new row with only the values PostgreSQL sent:
    // what a snapshot chunk's row is patched with (SnapshotCoordinator::on_stream_change).
    virtual std::string_view row_patch() const = 0;

    // Snapshot rows, in two steps: a reader thread encodes a row without the watermark
    // transaction's fields (encode_without_meta(): key() and the value's beginning); the
    // publisher then writes snapshot_open(), that beginning, snapshot_meta_head() once per
    // chunk and snapshot_seq() per row.
    virtual void encode_without_meta(const changeset::Changeset& change) = 0;
    virtual void snapshot_open(std::string& out, const changeset::RelationInfo& relation) = 0;
    virtual void snapshot_meta_head(std::string& out, const changeset::RelationInfo& relation,
                                    const changeset::EventMeta& meta) = 0;
    virtual void snapshot_seq(std::string& out, std::uint64_t seq) = 0;
};

}  // namespace pgcs::encode
