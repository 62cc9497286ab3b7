// Parses contract v2 native values for the sink; see sink_event.hpp.
#include "core/apply/sink_event.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

namespace pgcs::apply {
namespace {

using Value = rapidjson::Value;

std::string json_text(const Value& v) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

// A PostgreSQL array element: double-quoted, with " and \ escaped; NULL unquoted.
void append_array_literal(const Value& v, std::string& out);

void append_element(const Value& v, std::string& out) {
    if (v.IsArray()) {
        append_array_literal(v, out);
        return;
    }
    if (v.IsNull()) {
        out += "NULL";
        return;
    }
    std::string text =
        v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : json_text(v);
    out += '"';
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
}

void append_array_literal(const Value& v, std::string& out) {
    out += '{';
    bool first = true;
    for (const Value& element : v.GetArray()) {
        if (!first) {
            out += ',';
        }
        first = false;
        append_element(element, out);
    }
    out += '}';
}

// hstore's text form from its JSON object: "k"=>"v", NULL values unquoted.
std::string hstore_literal(const Value& v) {
    std::string out;
    for (const auto& m : v.GetObject()) {
        if (!out.empty()) {
            out += ", ";
        }
        append_element(m.name, out);
        out += "=>";
        append_element(m.value, out);
    }
    return out;
}

std::string type_of(const std::vector<ColumnType>& types, std::string_view column) {
    for (const ColumnType& t : types) {
        if (t.name == column) {
            return t.type;
        }
    }
    return "";
}

bool listed(const Value& doc, const char* image, std::string_view column) {
    auto it = doc.FindMember("json_null");
    if (it == doc.MemberEnd() || !it->value.IsObject()) {
        return false;
    }
    auto list = it->value.FindMember(image);
    if (list == it->value.MemberEnd() || !list->value.IsArray()) {
        return false;
    }
    return std::any_of(list->value.Begin(), list->value.End(), [&](const Value& c) {
        return c.IsString() && std::string_view(c.GetString(), c.GetStringLength()) == column;
    });
}

// One row image (`before`, `after` or `key`) as column values; the JSON null vs SQL NULL rule
// of the README's consumer rules: a null is JSON null only when json_null.<image> names it.
std::vector<ColumnValue> row_of(const Value& doc, const Value& row, const char* image,
                                const std::vector<ColumnType>& types) {
    std::vector<ColumnValue> out;
    for (const auto& m : row.GetObject()) {
        ColumnValue column;
        column.name.assign(m.name.GetString(), m.name.GetStringLength());
        const std::string type = type_of(types, column.name);
        const Value& v = m.value;
        if (v.IsNull()) {
            if (listed(doc, image, column.name)) {
                column.text = "null";
            } else {
                column.sql_null = true;
            }
        } else if (type == "json" || type == "jsonb") {
            column.text = json_text(v);
        } else if (v.IsString()) {
            column.text.assign(v.GetString(), v.GetStringLength());
        } else if (v.IsArray()) {
            append_array_literal(v, column.text);
        } else if (v.IsObject() && type == "hstore") {
            column.text = hstore_literal(v);
        } else {
            column.text = json_text(v);  // numbers (exact int8, -0.0), booleans
        }
        out.push_back(std::move(column));
    }
    return out;
}

JsonRow json_row_of(const Value& doc, const Value& row, const char* image) {
    JsonRow out;
    for (const auto& m : row.GetObject()) {
        JsonColumn column;
        column.name.assign(m.name.GetString(), m.name.GetStringLength());
        column.json = json_text(m.value);
        column.json_null = m.value.IsNull() && listed(doc, image, column.name);
        out.push_back(std::move(column));
    }
    return out;
}

const Value& member(const Value& doc, const char* name) {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd()) {
        throw EventError(std::string("the field '") + name + "' is missing");
    }
    return it->value;
}

std::string string_member(const Value& doc, const char* name) {
    const Value& v = member(doc, name);
    if (!v.IsString()) {
        throw EventError(std::string("the field '") + name + "' is not a string");
    }
    return std::string(v.GetString(), v.GetStringLength());
}

std::optional<EventOp> op_from(std::string_view name) {
    static constexpr std::pair<std::string_view, EventOp> kOps[] = {
        {"added", EventOp::Added},
        {"modified", EventOp::Modified},
        {"deleted", EventOp::Deleted},
        {"truncated", EventOp::Truncated},
        {"read", EventOp::Read}};
    for (const auto& [n, op] : kOps) {
        if (n == name) {
            return op;
        }
    }
    return std::nullopt;
}

}  // namespace

SinkEvent parse_sink_event(std::string_view value) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(value.data(), value.size());
    if (doc.HasParseError() || !doc.IsObject()) {
        throw EventError("the value is not a JSON object");
    }
    auto contract = doc.FindMember("contract");
    if (contract == doc.MemberEnd() || !contract->value.IsInt() || contract->value.GetInt() != 2) {
        throw EventError(doc.HasMember("payload") || doc.HasMember("source")
                             ? "a Debezium-format value; the sink reads kafka.format: native"
                             : "not a contract 2 event (\"contract\":2 is missing or differs)");
    }
    SinkEvent event;
    const std::string op = string_member(doc, "op");
    std::optional<EventOp> parsed_op = op_from(op);
    if (!parsed_op) {
        throw EventError("unknown op '" + op + "'");
    }
    event.op = *parsed_op;
    event.schema = string_member(doc, "schema");
    event.table = string_member(doc, "table");
    const Value& types = member(doc, "types");
    if (!types.IsObject()) {
        throw EventError("the field 'types' is not an object");
    }
    for (const auto& m : types.GetObject()) {
        if (!m.value.IsString()) {
            throw EventError("types." + std::string(m.name.GetString()) + " is not a string");
        }
        event.types.push_back({m.name.GetString(), m.value.GetString()});
    }
    const Value& key = member(doc, "key");
    const Value& before = member(doc, "before");
    const Value& after = member(doc, "after");
    if (event.op != EventOp::Truncated) {
        if (!key.IsObject()) {
            throw EventError(
                "the event has no key (a table without a primary key or replica "
                "identity index cannot be applied by key)");
        }
        event.key = row_of(doc, key, "key", event.types);
    }
    event.key_json = json_text(key);
    if (before.IsObject()) {
        event.has_before = true;
        event.before = row_of(doc, before, "before", event.types);
        event.before_json = json_row_of(doc, before, "before");
    } else if (!before.IsNull()) {
        throw EventError("the field 'before' is neither an object nor null");
    }
    const bool upsert =
        event.op == EventOp::Added || event.op == EventOp::Modified || event.op == EventOp::Read;
    if (upsert) {
        if (!after.IsObject()) {
            throw EventError("a " + op + " event whose 'after' is not an object");
        }
        event.after = row_of(doc, after, "after", event.types);
        event.after_json = json_row_of(doc, after, "after");
    }
    if (auto toast = doc.FindMember("unchanged_toast");
        toast != doc.MemberEnd() && toast->value.IsArray()) {
        for (const Value& c : toast->value.GetArray()) {
            if (c.IsString()) {
                event.unchanged_toast.emplace_back(c.GetString(), c.GetStringLength());
            }
        }
    }
    const std::string lsn = string_member(doc, "commit_lsn");
    std::optional<std::uint64_t> commit_lsn = parse_lsn(lsn);
    if (!commit_lsn) {
        throw EventError("commit_lsn '" + lsn + "' is not an LSN (X/X hex)");
    }
    event.position.commit_lsn = *commit_lsn;
    const Value& seq = member(doc, "seq");
    if (!seq.IsUint64()) {
        throw EventError("the field 'seq' is not a whole number");
    }
    event.position.seq = seq.GetUint64();
    if (auto xid = doc.FindMember("xid"); xid != doc.MemberEnd() && xid->value.IsUint64()) {
        event.xid = xid->value.GetUint64();
    }
    if (auto ts = doc.FindMember("commit_ts"); ts != doc.MemberEnd() && ts->value.IsString()) {
        event.commit_ts = ts->value.GetString();
    }
    return event;
}

}  // namespace pgcs::apply
