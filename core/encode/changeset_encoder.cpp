// Changeset -> key and value JSON, field by field in the contract's order.
#include "core/encode/changeset_encoder.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <stdexcept>

#include "core/encode/civil_date.hpp"
#include "core/encode/utf8.hpp"
#include "core/encode/value_writer.hpp"

namespace pgcs::encode {

using changeset::Changeset;
using changeset::Value;

std::string format_lsn(std::uint64_t lsn) {
    std::array<char, 24> buf{};
    const int n = std::snprintf(buf.data(), buf.size(), "%X/%X", static_cast<unsigned>(lsn >> 32),
                                static_cast<unsigned>(lsn & 0xFFFFFFFFu));
    return {buf.data(), static_cast<std::size_t>(n)};
}

namespace {

constexpr std::int64_t kPgEpochUnixMicros = 946684800LL * 1000000LL;
constexpr std::int64_t kMicrosPerDay = 86400LL * 1000000LL;

}  // namespace

std::string format_timestamp(std::int64_t pg_micros) {
    const std::int64_t unix_micros = pg_micros + kPgEpochUnixMicros;
    std::int64_t days = unix_micros / kMicrosPerDay;
    std::int64_t rem = unix_micros % kMicrosPerDay;
    if (rem < 0) {
        rem += kMicrosPerDay;
        --days;
    }
    const detail::CivilDate date = detail::civil_from_days(days);
    const std::int64_t y = date.year;
    const unsigned m = date.month;
    const unsigned d = date.day;
    const auto secs = rem / 1000000;
    const auto micros = rem % 1000000;
    std::array<char, 48> buf{};
    const int n =
        std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                      static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                      static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                      static_cast<long long>(micros));
    return {buf.data(), static_cast<std::size_t>(n)};
}

void ChangesetEncoder::write_value(rapidjson::Writer<rapidjson::StringBuffer>& w,
                                   const changeset::RelationColumn& column, const Value& value) {
    switch (value.state) {
        case Value::State::Null:
            w.Null();
            return;
        case Value::State::Text:
            write_text_value(w, *types_, *column.type, value.data);
            return;
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
            write_text_value(w, *types_, *column.type, scratch_);
            return;
        }
        case Value::State::Absent:
            break;
    }
    throw std::logic_error("write_value called for an absent value");
}

void ChangesetEncoder::write_row(rapidjson::Writer<rapidjson::StringBuffer>& w,
                                 const Changeset& change, const std::vector<Value>& row,
                                 bool key_only) {
    const auto& columns = change.relation->columns;
    w.StartObject();
    for (std::size_t i = 0; i < row.size(); ++i) {
        if (row[i].state == Value::State::Absent || (key_only && !columns[i].is_key)) {
            continue;
        }
        w.Key(columns[i].name.data(), static_cast<rapidjson::SizeType>(columns[i].name.size()));
        write_value(w, columns[i], row[i]);
    }
    w.EndObject();
}

void ChangesetEncoder::encode(const Changeset& change, const changeset::EventMeta& meta) {
    const auto& rel = *change.relation;
    const std::vector<Value>* key_row = change.key_from_before ? &change.before : &change.after;
    if (!change.key_from_before && !change.has_after) {
        key_row = nullptr;
    }
    has_key_ = rel.has_key && key_row != nullptr && !key_row->empty();

    key_buf_.Clear();
    if (has_key_) {
        rapidjson::Writer<rapidjson::StringBuffer> kw(key_buf_);
        write_row(kw, change, *key_row, true);
    }

    value_buf_.Clear();
    rapidjson::Writer<rapidjson::StringBuffer> w(value_buf_);
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
    w.Key("before");
    if (change.has_before) {
        write_row(w, change, change.before, false);
    } else {
        w.Null();
    }
    w.Key("after");
    if (change.has_after) {
        write_row(w, change, change.after, false);
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
    w.StartObject();
    for (const auto& c : rel.columns) {
        w.Key(c.name.data(), static_cast<rapidjson::SizeType>(c.name.size()));
        w.String(c.type->name.data(), static_cast<rapidjson::SizeType>(c.type->name.size()));
    }
    w.EndObject();
    const auto commit_ts = format_timestamp(meta.commit_time);
    const auto captured_ts = format_timestamp(meta.captured_time);
    const auto lsn = format_lsn(meta.lsn);
    const auto commit_lsn = format_lsn(meta.commit_lsn);
    w.Key("commit_ts");
    w.String(commit_ts.data(), static_cast<rapidjson::SizeType>(commit_ts.size()));
    w.Key("captured_ts");
    w.String(captured_ts.data(), static_cast<rapidjson::SizeType>(captured_ts.size()));
    w.Key("xid");
    w.Uint(meta.xid);
    w.Key("lsn");
    w.String(lsn.data(), static_cast<rapidjson::SizeType>(lsn.size()));
    w.Key("commit_lsn");
    w.String(commit_lsn.data(), static_cast<rapidjson::SizeType>(commit_lsn.size()));
    w.Key("seq");
    w.Uint64(meta.seq);
    w.EndObject();
}

namespace {

void write_text(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

void ChangesetEncoder::encode_message(const MessageEvent& m) {
    key_buf_.Clear();
    value_buf_.Clear();
    has_key_ = true;
    if (!detail::is_valid_utf8(m.prefix)) {
        throw std::invalid_argument("the message prefix is not valid UTF-8");
    }
    {
        rapidjson::Writer<rapidjson::StringBuffer> k(key_buf_);
        k.StartObject();
        k.Key("prefix");
        write_text(k, m.prefix);
        k.EndObject();
    }
    rapidjson::Writer<rapidjson::StringBuffer> w(value_buf_);
    w.StartObject();
    w.Key("op");
    w.String("message");
    w.Key("prefix");
    write_text(w, m.prefix);
    w.Key("transactional");
    w.Bool(m.transactional);
    const bool text = detail::is_valid_utf8(m.content);
    w.Key("content");
    if (text) {
        write_text(w, m.content);
    } else {
        std::string b64((m.content.size() + 2) / 3 * 4 + 1, '\0');
        const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                      reinterpret_cast<const unsigned char*>(m.content.data()),
                                      static_cast<int>(m.content.size()));
        b64.resize(static_cast<std::size_t>(n));
        write_text(w, b64);
    }
    w.Key("content_encoding");
    w.String(text ? "utf8" : "base64");
    auto optional_string = [&](const char* key, const std::optional<std::string>& v) {
        w.Key(key);
        if (v) {
            write_text(w, *v);
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
    w.EndObject();
}

}  // namespace pgcs::encode
