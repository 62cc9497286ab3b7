// Changeset -> Debezium's event (kafka.format: debezium): the key struct of the primary key and
// the value envelope (before, after, source, transaction, op, ts_ms, ts_us, ts_ns) as
// Debezium's PostgreSQL connector 3.x writes them through Kafka Connect's JsonConverter, with
// (`schemas`) or without its schema+payload wrapping. README, "The Debezium format".
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "core/encode/debezium_types.hpp"
#include "core/encode/debezium_values.hpp"
#include "core/encode/event_encoder.hpp"

namespace pgcs::encode {

struct DebeziumSettings {
    std::string topic_prefix;  // source.name, and the schema names' prefix
    bool schemas = false;      // kafka.schemas
    debezium::TypeOptions types;
    std::string skipped_operations = "t";  // skipped.operations
    std::string version;                   // source.version
    std::string database;                  // source.db
};

class DebeziumEncoder final : public EventEncoder {
  public:
    DebeziumEncoder(const changeset::TypeRegistry& types, DebeziumSettings settings);

    void set_binary_fallback(BinaryFallback fallback) override { fallback_ = std::move(fallback); }
    bool publishes(changeset::Op op) const override;
    void set_database(std::string_view name) override { settings_.database = name; }
    void on_commit(std::uint64_t end_lsn) override { last_commit_ = end_lsn; }
    bool fills_key_change_toast() const override { return false; }
    bool wants_not_null() const override { return true; }
    bool keys_by_primary_key() const override { return true; }

    void encode(const changeset::Changeset& change, const changeset::EventMeta& meta) override;
    std::string_view encode_key(const changeset::Changeset& change, bool from_before) override;
    void encode_message(const MessageEvent& message) override;

    bool has_key() const override { return has_key_; }
    std::string_view key() const override { return {key_buf_.GetString(), key_buf_.GetSize()}; }
    std::string_view value() const override {
        return {value_buf_.GetString(), value_buf_.GetSize()};
    }
    std::string_view row_patch() const override { return patch_view_; }

    void encode_without_meta(const changeset::Changeset& change) override;
    void snapshot_open(std::string& out, const changeset::RelationInfo& relation) override;
    void snapshot_meta_head(std::string& out, const changeset::RelationInfo& relation,
                            const changeset::EventMeta& meta) override;
    void snapshot_seq(std::string&, std::uint64_t) override {}

  private:
    // What a relation definition maps to, made once per definition.
    struct Table {
        std::uint64_t version = 0;
        std::uint64_t types_generation = 0;
        std::vector<debezium::ColumnType> columns;  // one per relation column
        std::vector<changeset::Oid> oids;           // their types, for same_columns()
        std::string key_schema;                     // with schemas only
        std::string envelope_schema;
    };
    const Table& table(const changeset::RelationInfo& relation);
    static bool same_columns(const Table& t, const changeset::RelationInfo& relation);

    using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
    // The row as a struct of every column Debezium maps; absent values are `absent_as`
    // (the TOAST placeholder in `after`, null in a key-only `before`).
    enum class Absent { Unavailable, Null };
    void write_row(Writer& w, const changeset::Changeset& change, const Table& t,
                   const std::vector<changeset::Value>& row, bool key_only, Absent absent_as);
    void write_value(Writer& w, const changeset::RelationColumn& column,
                     const debezium::ColumnType& type, const changeset::Value& value);
    void write_key(rapidjson::StringBuffer& buf, const changeset::Changeset& change, const Table& t,
                   bool from_before);
    // "before":...,"after":... of `change` (the payload's start, without its brace).
    void write_images(Writer& w, const changeset::Changeset& change, const Table& t);
    // ,"source":{...},"transaction":null,"op":..,"ts_ms":..,"ts_us":..,"ts_ns":..}
    void append_tail(std::string& out, const changeset::RelationInfo& relation,
                     const changeset::EventMeta& meta, char op, bool snapshot);
    void build_patch(const changeset::Changeset& change, const Table& t);

    const changeset::TypeRegistry* types_;
    DebeziumSettings settings_;
    bool skip_create_ = false, skip_update_ = false, skip_delete_ = false, skip_truncate_ = false;
    BinaryFallback fallback_;
    debezium::ValueWriter values_;
    std::unordered_map<const changeset::RelationInfo*, Table> tables_;
    rapidjson::StringBuffer key_buf_;
    rapidjson::StringBuffer value_buf_;
    rapidjson::StringBuffer other_key_buf_;
    bool has_key_ = false;
    std::string tail_;
    std::string scratch_;  // a binary value's text
    std::string patch_;    // row_patch() when it is not a part of the value
    std::string_view patch_view_;
    std::size_t payload_begin_ = 0;
    // source.sequence: the end LSN of the transaction before the current one (on_commit()).
    std::uint64_t last_commit_ = 0;
};

}  // namespace pgcs::encode
