// Debezium's envelope, field by field in the order JsonConverter writes its schema's fields.
#include "core/encode/debezium_encoder.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/base/topic_name.hpp"
#include "core/encode/debezium_schema.hpp"

namespace pgcs::encode {

using changeset::Changeset;
using changeset::Op;
using changeset::Value;

namespace {

constexpr std::int64_t kUnixMicrosAtPgEpoch = 946684800000000LL;

std::int64_t unix_micros(std::int64_t pg_micros) {
    return pg_micros + kUnixMicrosAtPgEpoch;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - (a % b < 0 ? 1 : 0);
}

void put(rapidjson::StringBuffer& b, std::string_view s) {
    std::memcpy(b.Push(s.size()), s.data(), s.size());
}

// `s` as a JSON string. Names and settings rarely need escaping: those are copied as they are
// (what rapidjson's Writer writes for them), the others go through the Writer.
void put_string(std::string& out, std::string_view s) {
    const bool plain = std::none_of(s.begin(), s.end(), [](char c) {
        return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
    });
    if (plain) {
        out += '"';
        out += s;
        out += '"';
        return;
    }
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    out.append(b.GetString(), b.GetSize());
}

void put_number(std::string& out, std::int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

// ts_ms, ts_us and ts_ns of a PostgreSQL timestamp, each with its key and a leading comma.
void put_times(std::string& out, std::int64_t pg_micros) {
    const std::int64_t us = unix_micros(pg_micros);
    out += ",\"ts_ms\":";
    put_number(out, floor_div(us, 1000));
    out += ",\"ts_us\":";
    put_number(out, us);
    out += ",\"ts_ns\":";
    put_number(out, us * 1000);
}

char op_code(Op op) {
    switch (op) {
        case Op::Added:
            return 'c';
        case Op::Modified:
            return 'u';
        case Op::Deleted:
            return 'd';
        case Op::Truncated:
            return 't';
        case Op::Read:
            return 'r';
    }
    return 'c';
}

}  // namespace

DebeziumEncoder::DebeziumEncoder(const changeset::TypeRegistry& types, DebeziumSettings settings)
    : types_(&types), settings_(std::move(settings)) {
    const std::string& ops = settings_.skipped_operations;
    if (ops != "none") {
        skip_create_ = ops.find('c') != std::string::npos;
        skip_update_ = ops.find('u') != std::string::npos;
        skip_delete_ = ops.find('d') != std::string::npos;
        skip_truncate_ = ops.find('t') != std::string::npos;
    }
}

bool DebeziumEncoder::publishes(Op op) const {
    switch (op) {
        case Op::Added:
            return !skip_create_;
        case Op::Modified:
            return !skip_update_;
        case Op::Deleted:
            return !skip_delete_;
        case Op::Truncated:
            return !skip_truncate_;
        case Op::Read:
            return true;
    }
    return true;
}

bool DebeziumEncoder::same_columns(const Table& t, const changeset::RelationInfo& relation) {
    // A relation outside a RelationCache (a snapshot's) has no version: its address could be
    // reused by another one, so its column types are compared too.
    if (t.oids.size() != relation.columns.size()) {
        return false;
    }
    for (std::size_t i = 0; i < t.oids.size(); ++i) {
        if (t.oids[i] != relation.columns[i].type_oid) {
            return false;
        }
    }
    return true;
}

const DebeziumEncoder::Table& DebeziumEncoder::table(const changeset::RelationInfo& relation) {
    auto it = tables_.find(&relation);
    if (it != tables_.end() && it->second.version == relation.version &&
        it->second.types_generation == types_->generation() &&
        (relation.version != 0 || same_columns(it->second, relation))) {
        return it->second;
    }
    if (tables_.size() > 4096) {
        tables_.clear();
    }
    Table& t = tables_[&relation];
    t.version = relation.version;
    t.types_generation = types_->generation();
    t.columns.clear();
    t.oids.clear();
    for (const auto& c : relation.columns) {
        t.oids.push_back(c.type_oid);
        t.columns.push_back(
            debezium::map_column(*types_, *c.type, c.type_modifier, settings_.types));
    }
    if (settings_.schemas) {
        std::vector<debezium::SchemaField> key;
        std::vector<debezium::SchemaField> value;
        for (std::size_t i = 0; i < relation.columns.size(); ++i) {
            if (t.columns[i].kind == debezium::Kind::Dropped) {
                continue;
            }
            const auto& c = relation.columns[i];
            const debezium::SchemaField f{c.name, &t.columns[i], !c.is_key && !c.not_null};
            value.push_back(f);
            if (c.is_format_key) {
                key.push_back(f);
            }
        }
        const std::string topic =
            base::table_topic(settings_.topic_prefix, relation.schema, relation.name);
        t.key_schema = debezium::key_schema(topic, key);
        t.envelope_schema = debezium::envelope_schema(topic, value);
    }
    return t;
}

void DebeziumEncoder::write_value(Writer& w, const changeset::RelationColumn& column,
                                  const debezium::ColumnType& type, const Value& value) {
    try {
        switch (value.state) {
            case Value::State::Null:
            case Value::State::Absent:
                w.Null();
                return;
            case Value::State::Text:
                values_.write(w, type, value.data);
                return;
            case Value::State::Binary: {
                const std::span<const std::byte> bytes(
                    reinterpret_cast<const std::byte*>(value.data.data()), value.data.size());
                scratch_.clear();
                if (!binary_to_text(*types_, *column.type, bytes, scratch_)) {
                    if (!fallback_) {
                        throw ValueFormatError("binary values of type " + column.type->name +
                                               " cannot be decoded here");
                    }
                    scratch_ = fallback_(column.type->oid, bytes);
                }
                values_.write(w, type, scratch_);
                return;
            }
        }
    } catch (const ValueFormatError& e) {
        throw ValueFormatError("column " + column.name + ": " + e.what());
    }
}

void DebeziumEncoder::write_row(Writer& w, const Changeset& change, const Table& t,
                                const std::vector<Value>& row, bool key_only, Absent absent_as) {
    const auto& columns = change.relation->columns;
    w.StartObject();
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto& type = t.columns[i];
        if (type.kind == debezium::Kind::Dropped || (key_only && !columns[i].is_format_key)) {
            continue;
        }
        w.Key(columns[i].name.data(), static_cast<rapidjson::SizeType>(columns[i].name.size()));
        if (row[i].state == Value::State::Absent && absent_as == Absent::Unavailable) {
            values_.write_unavailable(w, type);
        } else if (absent_as == Absent::Null && row[i].state != Value::State::Text &&
                   row[i].state != Value::State::Binary && columns[i].not_null &&
                   change.relation->replica_identity != 'f') {
            // A key-only old row: Debezium writes a NOT NULL column's fallback value.
            values_.write_fallback(w, type);
        } else {
            write_value(w, columns[i], type, row[i]);
        }
    }
    w.EndObject();
}

void DebeziumEncoder::write_key(rapidjson::StringBuffer& buf, const Changeset& change,
                                const Table& t, bool from_before) {
    buf.Clear();
    Writer w(buf);
    if (settings_.schemas) {
        put(buf, "{\"schema\":");
        put(buf, t.key_schema);
        put(buf, ",\"payload\":");
    }
    write_row(w, change, t, from_before ? change.before : change.after, true, Absent::Null);
    if (settings_.schemas) {
        put(buf, "}");
    }
}

std::string_view DebeziumEncoder::encode_key(const Changeset& change, bool from_before) {
    if (!change.relation->has_format_key) {
        return {};
    }
    write_key(other_key_buf_, change, table(*change.relation), from_before);
    return {other_key_buf_.GetString(), other_key_buf_.GetSize()};
}

void DebeziumEncoder::write_images(Writer& w, const Changeset& change, const Table& t) {
    w.Key("before");
    // Debezium's create half of a key change has no `before`; an update under REPLICA
    // IDENTITY DEFAULT has none either (pgoutput sent no old row).
    const bool before =
        change.has_before && (change.op == Op::Modified || change.op == Op::Deleted);
    if (before) {
        write_row(w, change, t, change.before, false, Absent::Null);
    } else {
        w.Null();
    }
    w.Key("after");
    if (change.has_after && change.op != Op::Deleted && change.op != Op::Truncated) {
        write_row(w, change, t, change.after, false, Absent::Unavailable);
    } else {
        w.Null();
    }
}

void DebeziumEncoder::append_tail(std::string& out, const changeset::RelationInfo& relation,
                                  const changeset::EventMeta& meta, char op, bool snapshot) {
    out += ",\"source\":{\"version\":";
    put_string(out, settings_.version);
    out += ",\"connector\":\"postgresql\",\"name\":";
    put_string(out, settings_.topic_prefix);
    // Streamed: the commit time; a snapshot row: when it was read.
    const std::int64_t source_time = snapshot ? meta.captured_time : meta.commit_time;
    const std::int64_t us = unix_micros(source_time);
    out += ",\"ts_ms\":";
    put_number(out, floor_div(us, 1000));
    out += snapshot ? ",\"snapshot\":\"true\",\"db\":" : ",\"snapshot\":\"false\",\"db\":";
    put_string(out, settings_.database);
    // The JSON string of ["<last commit>","<lsn>"], its quotes escaped.
    out += ",\"sequence\":\"[";
    if (last_commit_ == 0) {
        out += "null";
    } else {
        out += "\\\"";
        put_number(out, static_cast<std::int64_t>(last_commit_));
        out += "\\\"";
    }
    out += ",\\\"";
    put_number(out, static_cast<std::int64_t>(meta.lsn));
    out += "\\\"]\"";
    out += ",\"ts_us\":";
    put_number(out, us);
    out += ",\"ts_ns\":";
    put_number(out, us * 1000);
    out += ",\"schema\":";
    put_string(out, relation.schema);
    out += ",\"table\":";
    put_string(out, relation.name);
    out += ",\"txId\":";
    put_number(out, meta.xid);
    out += ",\"lsn\":";
    put_number(out, static_cast<std::int64_t>(meta.lsn));
    out += ",\"xmin\":null,\"origin\":null,\"origin_lsn\":null},\"transaction\":null,\"op\":\"";
    out += op;
    out += '"';
    put_times(out, meta.captured_time);
    out += '}';
    if (settings_.schemas) {
        out += '}';
    }
}

void DebeziumEncoder::build_patch(const Changeset& change, const Table& t) {
    const std::string_view value = this->value();
    const std::string_view payload =
        settings_.schemas ? value.substr(payload_begin_, value.size() - payload_begin_ - 1) : value;
    bool absent = false;
    for (const auto& v : change.after) {
        absent = absent || v.state == Value::State::Absent;
    }
    if (!absent) {
        patch_view_ = payload;
        return;
    }
    // Only the values PostgreSQL sent: the placeholder must not overwrite a snapshot row.
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    w.Key("after");
    const auto& columns = change.relation->columns;
    w.StartObject();
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (t.columns[i].kind == debezium::Kind::Dropped ||
            change.after[i].state == Value::State::Absent) {
            continue;
        }
        w.Key(columns[i].name.data(), static_cast<rapidjson::SizeType>(columns[i].name.size()));
        write_value(w, columns[i], t.columns[i], change.after[i]);
    }
    w.EndObject();
    w.EndObject();
    patch_.assign(buf.GetString(), buf.GetSize());
    patch_view_ = patch_;
}

void DebeziumEncoder::encode(const Changeset& change, const changeset::EventMeta& meta) {
    const Table& t = table(*change.relation);
    has_key_ = change.relation->has_format_key && change.op != Op::Truncated;
    if (has_key_) {
        write_key(key_buf_, change, t, change.key_from_before);
    } else {
        key_buf_.Clear();
    }
    value_buf_.Clear();
    if (settings_.schemas) {
        put(value_buf_, "{\"schema\":");
        put(value_buf_, t.envelope_schema);
        put(value_buf_, ",\"payload\":");
    }
    payload_begin_ = value_buf_.GetSize();
    Writer w(value_buf_);
    w.StartObject();
    write_images(w, change, t);
    tail_.clear();
    append_tail(tail_, *change.relation, meta, op_code(change.op), change.op == Op::Read);
    put(value_buf_, tail_);
    if (change.op != Op::Deleted && change.op != Op::Truncated) {
        build_patch(change, t);
    } else {
        patch_view_ = {};
    }
}

void DebeziumEncoder::encode_without_meta(const Changeset& change) {
    const Table& t = table(*change.relation);
    has_key_ = change.relation->has_format_key;
    if (has_key_) {
        write_key(key_buf_, change, t, false);
    } else {
        key_buf_.Clear();
    }
    value_buf_.Clear();
    Writer w(value_buf_);
    w.StartObject();
    write_images(w, change, t);
}

void DebeziumEncoder::snapshot_open(std::string& out, const changeset::RelationInfo& relation) {
    if (settings_.schemas) {
        out += "{\"schema\":";
        out += table(relation).envelope_schema;
        out += ",\"payload\":";
    }
}

void DebeziumEncoder::snapshot_meta_head(std::string& out, const changeset::RelationInfo& relation,
                                         const changeset::EventMeta& meta) {
    append_tail(out, relation, meta, 'r', true);
}

void DebeziumEncoder::encode_message(const MessageEvent& m) {
    static const std::string key_schema = debezium::message_key_schema();
    static const std::string value_schema = debezium::message_value_schema();
    has_key_ = true;
    key_buf_.Clear();
    {
        if (settings_.schemas) {
            put(key_buf_, "{\"schema\":");
            put(key_buf_, key_schema);
            put(key_buf_, ",\"payload\":");
        }
        Writer w(key_buf_);
        w.StartObject();
        w.Key("prefix");
        w.String(m.prefix.data(), static_cast<rapidjson::SizeType>(m.prefix.size()));
        w.EndObject();
        if (settings_.schemas) {
            put(key_buf_, "}");
        }
    }
    value_buf_.Clear();
    if (settings_.schemas) {
        put(value_buf_, "{\"schema\":");
        put(value_buf_, value_schema);
        put(value_buf_, ",\"payload\":");
    }
    tail_.clear();
    const std::int64_t us = unix_micros(m.captured_time);
    tail_ += "{\"op\":\"m\",\"ts_ms\":";
    put_number(tail_, floor_div(us, 1000));
    tail_ += ",\"source\":{\"version\":";
    put_string(tail_, settings_.version);
    tail_ += ",\"connector\":\"postgresql\",\"name\":";
    put_string(tail_, settings_.topic_prefix);
    const std::int64_t source_us = unix_micros(m.commit_time.value_or(m.captured_time));
    tail_ += ",\"ts_ms\":";
    put_number(tail_, floor_div(source_us, 1000));
    tail_ += ",\"snapshot\":\"false\",\"db\":";
    put_string(tail_, settings_.database);
    tail_ += ",\"sequence\":";
    std::string sequence = "[";
    sequence += last_commit_ == 0 ? "null" : "\"" + std::to_string(last_commit_) + "\"";
    sequence += ",\"" + std::to_string(m.lsn) + "\"]";
    put_string(tail_, sequence);
    tail_ += ",\"ts_us\":";
    put_number(tail_, source_us);
    tail_ += ",\"ts_ns\":";
    put_number(tail_, source_us * 1000);
    tail_ += ",\"schema\":\"\",\"table\":\"\",\"txId\":";
    tail_ += m.xid ? std::to_string(*m.xid) : "null";
    tail_ += ",\"lsn\":";
    put_number(tail_, static_cast<std::int64_t>(m.lsn));
    tail_ += ",\"xmin\":null,\"origin\":null,\"origin_lsn\":null},\"transaction\":null,";
    tail_ += "\"message\":{\"prefix\":";
    put_string(tail_, m.prefix);
    tail_ += ",\"content\":\"";
    std::string b64((m.content.size() + 2) / 3 * 4 + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                  reinterpret_cast<const unsigned char*>(m.content.data()),
                                  static_cast<int>(m.content.size()));
    tail_.append(b64.data(), static_cast<std::size_t>(n));
    tail_ += "\"}}";
    if (settings_.schemas) {
        tail_ += '}';
    }
    put(value_buf_, tail_);
    patch_view_ = {};
}

}  // namespace pgcs::encode
