// Changeset -> the contract's Kafka key and JSON value. Buffers are reused across events.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/changeset/changeset.hpp"
#include "core/changeset/type_registry.hpp"
#include "core/encode/binary_text.hpp"
#include "core/encode/event_encoder.hpp"
#include "core/pgoutput/lsn.hpp"

namespace pgcs::encode {

// The version of the changeset contract every event follows: its last field, `"contract":2`
// (README, "The version a consumer reads").
inline constexpr unsigned kContractVersion = 2;

// "2026-11-23T10:00:00.123456Z": a PostgreSQL timestamp (µs since 2000-01-01 UTC), always six
// fraction digits.
std::string format_timestamp(std::int64_t pg_micros);

// The same text in a buffer of its own, without allocating (once per event on the hot path).
struct ShortText {
    std::array<char, 48> buf{};
    std::size_t len = 0;
    std::string_view view() const { return {buf.data(), len}; }
};
ShortText timestamp_text(std::int64_t pg_micros);

class ChangesetEncoder final : public EventEncoder {
  public:
    explicit ChangesetEncoder(const changeset::TypeRegistry& types) : types_(&types) {}

    // How binary values of types not decoded here become text (pgoutput binary mode). Without
    // one, such a value is an error.
    void set_binary_fallback(BinaryFallback fallback) override { fallback_ = std::move(fallback); }

    bool publishes(changeset::Op) const override { return true; }

    // Encodes one event. key() and value() are valid until the next call.
    void encode(const changeset::Changeset& change, const changeset::EventMeta& meta) override;

    // The same in two steps, for snapshot rows encoded before their watermark's transaction
    // is known: value() without its last fields (commit_ts, captured_ts, xid, lsn, commit_lsn,
    // seq) and closing brace, which append_event_meta() then writes.
    void encode_without_meta(const changeset::Changeset& change) override;
    static void append_event_meta(rapidjson::StringBuffer& out, const changeset::EventMeta& meta);
    static void append_event_meta(std::string& out, const changeset::EventMeta& meta);
    // append_event_meta() for many events that differ only in seq (a snapshot chunk): the
    // fields up to seq's value once (meta.seq is not used), then per event that head and
    // append_seq(), which writes seq and the closing brace.
    static void event_meta_head(std::string& out, const changeset::EventMeta& meta);
    static void append_seq(std::string& out, std::uint64_t seq);

    // The Kafka key of `change` read from its old row (`from_before`) or its new row, in a
    // buffer of its own: key() and value() stay as they are. Empty when there is no key.
    std::string_view encode_key(const changeset::Changeset& change, bool from_before) override;

    // Encodes a message event: key {"prefix": ...}; value see the README ("Logical decoding
    // messages"). The content is text when it is valid UTF-8, else base64; so is the prefix
    // (then with "prefix_encoding":"base64").
    void encode_message(const MessageEvent& message) override;

    // False when the event has no key (a table without primary key or identity index, or a
    // truncate): the Kafka record key is then null.
    bool has_key() const override { return has_key_; }
    std::string_view key() const override { return {key_buf_.GetString(), key_buf_.GetSize()}; }
    std::string_view value() const override {
        return {value_buf_.GetString(), value_buf_.GetSize()};
    }
    std::string_view row_patch() const override { return value(); }

    // The snapshot steps of EventEncoder: the value's beginning needs nothing before it; the
    // head and seq are event_meta_head() and append_seq().
    void snapshot_open(std::string&, const changeset::RelationInfo&) override {}
    void snapshot_meta_head(std::string& out, const changeset::RelationInfo&,
                            const changeset::EventMeta& meta) override {
        event_meta_head(out, meta);
    }
    void snapshot_seq(std::string& out, std::uint64_t seq) override { append_seq(out, seq); }

  private:
    // Writes `row` as an object. With `json_nulls`, appends to it the index of every json/jsonb
    // column whose value is the JSON literal null (the "json_null" field); with `not_utf8`, of
    // every column written as the base64 of its text because that text is not UTF-8.
    void write_row(rapidjson::Writer<rapidjson::StringBuffer>& w,
                   const changeset::Changeset& change, const std::vector<changeset::Value>& row,
                   bool key_only, std::vector<std::uint16_t>* json_nulls,
                   std::vector<std::uint16_t>* not_utf8);
    // What write_value() wrote besides the plain JSON form.
    static constexpr unsigned kJsonNull = 1;  // a json/jsonb JSON null (not SQL NULL)
    static constexpr unsigned kNotUtf8 = 2;   // the base64 of text that is not valid UTF-8
    unsigned write_value(rapidjson::Writer<rapidjson::StringBuffer>& w,
                         const changeset::RelationColumn& column, const changeset::Value& value);
    // `text`, a value of `type` in PostgreSQL's text form, as write_value() writes it.
    unsigned write_text(rapidjson::Writer<rapidjson::StringBuffer>& w,
                        const changeset::TypeInfo& type, std::string_view text);
    // `name`:{"before":[...],"after":[...]} when either image lists a column.
    static void write_column_lists(rapidjson::Writer<rapidjson::StringBuffer>& w,
                                   const changeset::RelationInfo& rel, const char* name,
                                   const std::vector<std::uint16_t>& before,
                                   const std::vector<std::uint16_t>& after);
    // The "types" object of a relation, serialised once per relation definition.
    std::string_view types_json(const changeset::RelationInfo& rel);

    const changeset::TypeRegistry* types_;
    rapidjson::StringBuffer key_buf_;
    rapidjson::StringBuffer value_buf_;
    rapidjson::StringBuffer other_key_buf_;  // encode_key()
    // Kept and Reset() for every event: a Writer allocates its level stack (and that stack's
    // allocator) when it is made, four allocations an event otherwise.
    rapidjson::Writer<rapidjson::StringBuffer> key_writer_{key_buf_};
    rapidjson::Writer<rapidjson::StringBuffer> value_writer_{value_buf_};
    bool has_key_ = false;
    BinaryFallback fallback_;
    std::string scratch_;  // a binary value's text form
    // The current event's json/jsonb columns holding JSON null, by image; reused.
    std::vector<std::uint16_t> json_null_before_;
    std::vector<std::uint16_t> json_null_after_;
    // The same for columns written as base64 because their text is not UTF-8 ("not_utf8").
    std::vector<std::uint16_t> not_utf8_before_;
    std::vector<std::uint16_t> not_utf8_after_;
    std::string base64_;  // reused
    // By RelationInfo::version (unique per definition; 0, never cached, outside a cache).
    std::unordered_map<std::uint64_t, std::string> types_json_;
    std::string types_scratch_;
    std::uint64_t types_generation_ = 0;  // types_->generation() the cache was made with
};

}  // namespace pgcs::encode
