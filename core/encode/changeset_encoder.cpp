// Changeset -> key and value JSON, field by field in the contract's order.
#include "core/encode/changeset_encoder.hpp"

#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "core/encode/civil_date.hpp"
#include "core/encode/utf8.hpp"
#include "core/encode/value_writer.hpp"

namespace pgcs::encode {

using changeset::Changeset;
using changeset::Value;

namespace {

constexpr std::int64_t kPgEpochUnixDays = 10957;  // 2000-01-01 in days since 1970-01-01
constexpr std::int64_t kMicrosPerDay = 86400LL * 1000000LL;

// `width` decimal digits of v (0 <= v < 10^width) at p; returns the end.
char* put_digits(char* p, std::int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
        p[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

}  // namespace

ShortText timestamp_text(std::int64_t pg_micros) {
    // Days from PostgreSQL's epoch first: adding the Unix offset in microseconds would overflow
    // near the end of PostgreSQL's range (294276 AD).
    std::int64_t days = pg_micros / kMicrosPerDay;
    std::int64_t rem = pg_micros % kMicrosPerDay;
    if (rem < 0) {
        rem += kMicrosPerDay;
        --days;
    }
    days += kPgEpochUnixDays;
    const detail::CivilDate date = detail::civil_from_days(days);
    const std::int64_t y = date.year;
    const auto secs = rem / 1000000;
    const auto micros = rem % 1000000;
    ShortText t;
    char* p = t.buf.data();
    if (y >= 0 && y <= 9999) {
        p = put_digits(p, y, 4);
    } else {  // outside four digits: as printf's %04lld ("-001", "12345")
        const int n = std::snprintf(p, 24, "%04lld", static_cast<long long>(y));
        p += n;
    }
    *p++ = '-';
    p = put_digits(p, date.month, 2);
    *p++ = '-';
    p = put_digits(p, date.day, 2);
    *p++ = 'T';
    p = put_digits(p, secs / 3600, 2);
    *p++ = ':';
    p = put_digits(p, secs / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, secs % 60, 2);
    *p++ = '.';
    p = put_digits(p, micros, 6);
    *p++ = 'Z';
    t.len = static_cast<std::size_t>(p - t.buf.data());
    return t;
}

std::string format_timestamp(std::int64_t pg_micros) {
    return std::string(timestamp_text(pg_micros).view());
}

namespace {

// `text` is a json/jsonb value write_text_value accepted: valid JSON, so one that starts with
// 'n' (after JSON white space, which json keeps) is the literal null.
bool is_json_null(const changeset::TypeInfo& type, std::string_view text) {
    if (type.kind != changeset::ValueKind::Json) {
        return false;
    }
    const auto start = text.find_first_not_of(" \t\n\r");
    return start != std::string_view::npos && text[start] == 'n';
}

}  // namespace

namespace {

// The kinds whose values are text PostgreSQL passes on as stored (text types, enums, "anything
// else", json, arrays, hstore): in a database whose encoding is not UTF8 (SQL_ASCII) that text
// need not be UTF-8. Every other kind's text is ASCII or is refused by its parser.
bool holds_free_text(changeset::ValueKind kind) {
    using changeset::ValueKind;
    return kind == ValueKind::String || kind == ValueKind::Json || kind == ValueKind::Array ||
           kind == ValueKind::Hstore;
}

// Standard base64 (RFC 4648, padded) of `bytes` into `out`, reusing its capacity.
void base64_into(std::string_view bytes, std::string& out) {
    out.resize((bytes.size() + 2) / 3 * 4 + 1);
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
}

}  // namespace

unsigned ChangesetEncoder::write_text(rapidjson::Writer<rapidjson::StringBuffer>& w,
                                      const changeset::TypeInfo& type, std::string_view text) {
    if (holds_free_text(type.kind)) {
        if (!detail::is_valid_utf8(text)) {
            // Lossless and never a stop: the raw bytes as base64, the column named in "not_utf8".
            base64_into(text, base64_);
            w.String(base64_.data(), static_cast<rapidjson::SizeType>(base64_.size()));
            return kNotUtf8;
        }
        if (type.kind == changeset::ValueKind::String) {  // checked: no second scan
            w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
            return 0;
        }
    }
    write_text_value(w, *types_, type, text);
    return is_json_null(type, text) ? kJsonNull : 0;
}

unsigned ChangesetEncoder::write_value(rapidjson::Writer<rapidjson::StringBuffer>& w,
                                       const changeset::RelationColumn& column,
                                       const Value& value) {
    switch (value.state) {
        case Value::State::Null:
            w.Null();
            return 0;
        case Value::State::Text:
            return write_text(w, *column.type, value.data);
        case Value::State::Binary: {
            const std::span<const std::byte> bytes(
                reinterpret_cast<const std::byte*>(value.data.data()), value.data.size());
            scratch_.clear();
            if (!binary_to_text(*types_, *column.type, bytes, scratch_)) {
                if (!fallback_) {
                    throw ValueFormatError("column " + column.name + ": binary values of type " +
                                           column.type->name + " cannot be decoded here");
                }
                scratch_ = fallback_(column.type->oid, bytes);
            }
            return write_text(w, *column.type, scratch_);
        }
        case Value::State::Absent:
            break;
    }
    throw std::logic_error("write_value called for an absent value");
}

void ChangesetEncoder::write_row(rapidjson::Writer<rapidjson::StringBuffer>& w,
                                 const Changeset& change, const std::vector<Value>& row,
                                 bool key_only, std::vector<std::uint16_t>* json_nulls,
                                 std::vector<std::uint16_t>* not_utf8) {
    const auto& columns = change.relation->columns;
    w.StartObject();
    for (std::size_t i = 0; i < row.size(); ++i) {
        if (row[i].state == Value::State::Absent || (key_only && !columns[i].is_key)) {
            continue;
        }
        w.Key(columns[i].name.data(), static_cast<rapidjson::SizeType>(columns[i].name.size()));
        const unsigned notes = write_value(w, columns[i], row[i]);
        if ((notes & kJsonNull) != 0 && json_nulls != nullptr) {
            json_nulls->push_back(static_cast<std::uint16_t>(i));
        }
        if ((notes & kNotUtf8) != 0 && not_utf8 != nullptr) {
            not_utf8->push_back(static_cast<std::uint16_t>(i));
        }
    }
    w.EndObject();
}

void ChangesetEncoder::write_column_lists(rapidjson::Writer<rapidjson::StringBuffer>& w,
                                          const changeset::RelationInfo& rel, const char* name,
                                          const std::vector<std::uint16_t>& before,
                                          const std::vector<std::uint16_t>& after) {
    if (before.empty() && after.empty()) {
        return;  // the common case: no field at all
    }
    auto names = [&](const std::vector<std::uint16_t>& idx) {
        w.StartArray();
        for (auto i : idx) {
            const auto& column = rel.columns[i].name;
            w.String(column.data(), static_cast<rapidjson::SizeType>(column.size()));
        }
        w.EndArray();
    };
    w.Key(name);
    w.StartObject();
    w.Key("before");
    names(before);
    w.Key("after");
    names(after);
    w.EndObject();
}

std::string_view ChangesetEncoder::types_json(const changeset::RelationInfo& rel) {
    if (types_generation_ != types_->generation()) {  // a type was (re)defined: names may differ
        types_json_.clear();
        types_generation_ = types_->generation();
    }
    if (rel.version != 0) {
        if (const auto it = types_json_.find(rel.version); it != types_json_.end()) {
            return it->second;
        }
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    for (const auto& c : rel.columns) {
        w.Key(c.name.data(), static_cast<rapidjson::SizeType>(c.name.size()));
        w.String(c.type->name.data(), static_cast<rapidjson::SizeType>(c.type->name.size()));
    }
    w.EndObject();
    if (rel.version == 0) {
        types_scratch_.assign(buf.GetString(), buf.GetSize());
        return types_scratch_;
    }
    if (types_json_.size() >= 4096) {  // many redefinitions: start over rather than grow
        types_json_.clear();
    }
    return types_json_.emplace(rel.version, std::string(buf.GetString(), buf.GetSize()))
        .first->second;
}

std::string_view ChangesetEncoder::encode_key(const Changeset& change, bool from_before) {
    const std::vector<Value>& row = from_before ? change.before : change.after;
    if (!change.relation->has_key || !(from_before ? change.has_before : change.has_after) ||
        row.empty()) {
        return {};
    }
    other_key_buf_.Clear();
    rapidjson::Writer<rapidjson::StringBuffer> w(other_key_buf_);
    write_row(w, change, row, true, nullptr, nullptr);
    return {other_key_buf_.GetString(), other_key_buf_.GetSize()};
}

void ChangesetEncoder::encode(const Changeset& change, const changeset::EventMeta& meta) {
    encode_without_meta(change);
    append_event_meta(value_buf_, meta);
}

namespace {

void put(rapidjson::StringBuffer& out, std::string_view s) {
    std::memcpy(out.Push(s.size()), s.data(), s.size());
}

void put(std::string& out, std::string_view s) {
    out.append(s);
}

template <typename Out>
void put_uint(Out& out, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    put(out, std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}

// The value's last fields, as rapidjson's Writer would write them after "types" (the texts
// need no escaping).
template <typename Out>
void put_meta_head(Out& out, const changeset::EventMeta& meta) {
    put(out, ",\"commit_ts\":\"");
    put(out, timestamp_text(meta.commit_time).view());
    put(out, "\",\"captured_ts\":\"");
    put(out, timestamp_text(meta.captured_time).view());
    put(out, "\",\"xid\":");
    put_uint(out, meta.xid);
    put(out, ",\"lsn\":\"");
    put(out, lsn_text(meta.lsn).view());
    put(out, "\",\"commit_lsn\":\"");
    put(out, lsn_text(meta.commit_lsn).view());
    put(out, "\",\"seq\":");
}

// `seq`, then the last field: the version of the changeset contract the event follows.
template <typename Out>
void put_seq(Out& out, std::uint64_t seq) {
    put_uint(out, seq);
    put(out, ",\"contract\":");
    put_uint(out, kContractVersion);
    put(out, "}");
}

template <typename Out>
void put_meta(Out& out, const changeset::EventMeta& meta) {
    put_meta_head(out, meta);
    put_seq(out, meta.seq);
}

}  // namespace

void ChangesetEncoder::append_event_meta(rapidjson::StringBuffer& out,
                                         const changeset::EventMeta& meta) {
    put_meta(out, meta);
}

void ChangesetEncoder::append_event_meta(std::string& out, const changeset::EventMeta& meta) {
    put_meta(out, meta);
}

void ChangesetEncoder::event_meta_head(std::string& out, const changeset::EventMeta& meta) {
    put_meta_head(out, meta);
}

void ChangesetEncoder::append_seq(std::string& out, std::uint64_t seq) {
    put_seq(out, seq);
}

void ChangesetEncoder::encode_without_meta(const Changeset& change) {
    const auto& rel = *change.relation;
    const std::vector<Value>* key_row = change.key_from_before ? &change.before : &change.after;
    if (!change.key_from_before && !change.has_after) {
        key_row = nullptr;
    }
    has_key_ = rel.has_key && key_row != nullptr && !key_row->empty();

    key_buf_.Clear();
    if (has_key_) {
        key_writer_.Reset(key_buf_);
        write_row(key_writer_, change, *key_row, true, nullptr, nullptr);
    }

    value_buf_.Clear();
    auto& w = value_writer_;
    w.Reset(value_buf_);
    w.StartObject();
    const auto op = changeset::op_name(change.op);
    w.Key("op");
    w.String(op.data(), static_cast<rapidjson::SizeType>(op.size()));
    w.Key("schema");
    w.String(rel.schema.data(), static_cast<rapidjson::SizeType>(rel.schema.size()));
    w.Key("table");
    w.String(rel.name.data(), static_cast<rapidjson::SizeType>(rel.name.size()));
    w.Key("key");
    if (has_key_) {
        w.RawValue(key_buf_.GetString(), key_buf_.GetSize(), rapidjson::kObjectType);
    } else {
        w.Null();
    }
    json_null_before_.clear();
    json_null_after_.clear();
    not_utf8_before_.clear();
    not_utf8_after_.clear();
    w.Key("before");
    if (change.has_before) {
        write_row(w, change, change.before, false, &json_null_before_, &not_utf8_before_);
    } else {
        w.Null();
    }
    w.Key("after");
    if (change.has_after) {
        write_row(w, change, change.after, false, &json_null_after_, &not_utf8_after_);
    } else {
        w.Null();
    }
    auto write_columns = [&](const std::vector<std::uint16_t>& idx) {
        w.StartArray();
        for (auto i : idx) {
            const auto& name = rel.columns[i].name;
            w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
        }
        w.EndArray();
    };
    w.Key("changed");
    if (change.op == changeset::Op::Modified && change.has_changed) {
        write_columns(change.changed);
    } else {
        w.Null();
    }
    w.Key("unchanged_toast");
    write_columns(change.unchanged_toast);
    w.Key("types");
    const auto types = types_json(rel);
    w.RawValue(types.data(), types.size(), rapidjson::kObjectType);
    write_column_lists(w, rel, "json_null", json_null_before_, json_null_after_);
    write_column_lists(w, rel, "not_utf8", not_utf8_before_, not_utf8_after_);
    // The object stays open: append_event_meta() writes the remaining fields and closes it.
}

namespace {

void write_plain(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

void ChangesetEncoder::encode_message(const MessageEvent& m) {
    key_buf_.Clear();
    value_buf_.Clear();
    has_key_ = true;
    // A prefix that is not UTF-8 (an SQL_ASCII database) is written as base64, like content.
    const bool prefix_text = detail::is_valid_utf8(m.prefix);
    std::string_view prefix = m.prefix;
    if (!prefix_text) {
        base64_into(m.prefix, base64_);
        prefix = base64_;
    }
    {
        rapidjson::Writer<rapidjson::StringBuffer> k(key_buf_);
        k.StartObject();
        k.Key("prefix");
        write_plain(k, prefix);
        k.EndObject();
    }
    rapidjson::Writer<rapidjson::StringBuffer> w(value_buf_);
    w.StartObject();
    w.Key("op");
    w.String("message");
    w.Key("prefix");
    write_plain(w, prefix);
    if (!prefix_text) {
        w.Key("prefix_encoding");
        w.String("base64");
    }
    w.Key("transactional");
    w.Bool(m.transactional);
    const bool text = detail::is_valid_utf8(m.content);
    w.Key("content");
    if (text) {
        write_plain(w, m.content);
    } else {
        base64_into(m.content, base64_);
        write_plain(w, base64_);
    }
    w.Key("content_encoding");
    w.String(text ? "utf8" : "base64");
    auto optional_string = [&](const char* key, const std::optional<std::string>& v) {
        w.Key(key);
        if (v) {
            write_plain(w, *v);
        } else {
            w.Null();
        }
    };
    optional_string("commit_ts",
                    m.commit_time ? std::optional(format_timestamp(*m.commit_time)) : std::nullopt);
    optional_string("captured_ts", format_timestamp(m.captured_time));
    w.Key("xid");
    if (m.xid) {
        w.Uint(*m.xid);
    } else {
        w.Null();
    }
    optional_string("lsn", format_lsn(m.lsn));
    optional_string("commit_lsn",
                    m.commit_lsn ? std::optional(format_lsn(*m.commit_lsn)) : std::nullopt);
    w.Key("seq");
    if (m.seq) {
        w.Uint64(*m.seq);
    } else {
        w.Null();
    }
    w.Key("contract");
    w.Uint(kContractVersion);
    w.EndObject();
}

}  // namespace pgcs::encode
