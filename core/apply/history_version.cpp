// History mode's pure part; see history_version.hpp.
#include "core/apply/history_version.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

namespace pgcs::apply {
namespace {

const JsonColumn* find_column(const JsonRow& row, std::string_view name) {
    for (const JsonColumn& c : row) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

bool same_value(const JsonColumn& a, const JsonColumn& b) {
    if (a.json_null != b.json_null) {
        return false;
    }
    if (a.json == b.json) {
        return true;
    }
    // The same value in another spelling (a stored jsonb orders object keys its own way).
    rapidjson::Document x;
    rapidjson::Document y;
    x.Parse<rapidjson::kParseFullPrecisionFlag>(a.json.data(), a.json.size());
    y.Parse<rapidjson::kParseFullPrecisionFlag>(b.json.data(), b.json.size());
    return !x.HasParseError() && !y.HasParseError() && x == y;
}

void append_string(std::string& out, std::string_view text) {
    out += '"';
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\u00";
            out += kHex[u >> 4U];
            out += kHex[u & 15U];
        } else {
            out += c;
        }
    }
    out += '"';
}

std::string compact(const rapidjson::Value& v) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

std::string value_text(const JsonColumn& c) {
    return c.json_null ? "null (JSON)" : c.json;
}

void order_row(JsonRow& row, const std::vector<std::string>& order) {
    std::stable_sort(row.begin(), row.end(), [&](const JsonColumn& a, const JsonColumn& b) {
        auto rank = [&](const std::string& n) {
            return static_cast<std::size_t>(std::find(order.begin(), order.end(), n) -
                                            order.begin());
        };
        return rank(a.name) < rank(b.name);
    });
}

}  // namespace

JsonRow merge_unchanged_toast(const JsonRow& after, const std::vector<std::string>& unchanged_toast,
                              const JsonRow* previous, const std::vector<ColumnType>& order) {
    JsonRow out = after;
    for (const std::string& name : unchanged_toast) {
        if (find_column(out, name) != nullptr || previous == nullptr) {
            continue;
        }
        if (const JsonColumn* old = find_column(*previous, name)) {
            out.push_back(*old);
        }
    }
    std::vector<std::string> names;
    names.reserve(order.size());
    for (const ColumnType& t : order) {
        names.push_back(t.name);
    }
    order_row(out, names);
    return out;
}

std::string changed_json(const JsonRow& old_row, const JsonRow& now) {
    static const JsonColumn kSqlNull{"", "null", false};
    std::string out = "{";
    for (const JsonColumn& c : now) {
        const JsonColumn* old = find_column(old_row, c.name);
        if (same_value(old != nullptr ? *old : kSqlNull, c)) {
            continue;
        }
        if (out.size() > 1) {
            out += ',';
        }
        append_string(out, c.name);
        out += ":{\"old\":" + (old != nullptr ? old->json : std::string("null")) +
               ",\"new\":" + c.json + "}";
    }
    return out + "}";
}

std::string row_json(const JsonRow& row) {
    std::string out = "{";
    for (const JsonColumn& c : row) {
        if (out.size() > 1) {
            out += ',';
        }
        append_string(out, c.name);
        out += ':';
        out += c.json;
    }
    return out + "}";
}

std::vector<std::string> json_null_columns(const JsonRow& row) {
    std::vector<std::string> out;
    for (const JsonColumn& c : row) {
        if (c.json_null) {
            out.push_back(c.name);
        }
    }
    return out;
}

JsonRow parse_json_row(std::string_view object_json, const std::vector<std::string>& json_null,
                       const std::vector<std::string>& column_order) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(object_json.data(), object_json.size());
    if (doc.HasParseError() || !doc.IsObject()) {
        throw EventError("a stored history row is not a JSON object");
    }
    JsonRow out;
    for (const auto& m : doc.GetObject()) {
        JsonColumn c;
        c.name.assign(m.name.GetString(), m.name.GetStringLength());
        c.json = compact(m.value);
        c.json_null = m.value.IsNull() &&
                      std::find(json_null.begin(), json_null.end(), c.name) != json_null.end();
        out.push_back(std::move(c));
    }
    order_row(out, column_order);
    return out;
}

std::string format_changed(std::string_view stored, const std::vector<std::string>& column_order) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(stored.data(), stored.size());
    if (doc.HasParseError() || !doc.IsObject()) {
        throw EventError("a stored history 'changed' is not a JSON object");
    }
    JsonRow columns;  // one entry per column: its {"old":..,"new":..}, rewritten in that order
    for (const auto& m : doc.GetObject()) {
        std::string entry = "{\"old\":";
        const auto old_value = m.value.FindMember("old");
        const auto new_value = m.value.FindMember("new");
        entry += old_value != m.value.MemberEnd() ? compact(old_value->value) : "null";
        entry += ",\"new\":";
        entry += new_value != m.value.MemberEnd() ? compact(new_value->value) : "null";
        columns.push_back(
            {std::string(m.name.GetString(), m.name.GetStringLength()), entry + "}", false});
    }
    order_row(columns, column_order);
    return row_json(columns);
}

std::vector<std::string> parse_name_list(std::string_view json_array) {
    rapidjson::Document doc;
    doc.Parse(json_array.data(), json_array.size());
    std::vector<std::string> out;
    if (!doc.HasParseError() && doc.IsArray()) {
        for (const rapidjson::Value& v : doc.GetArray()) {
            if (v.IsString()) {
                out.emplace_back(v.GetString(), v.GetStringLength());
            }
        }
    }
    return out;
}

std::string history_line(const HistoryVersion& v) {
    std::string out = "{\"op\":";
    append_string(out, changeset::op_name(v.op));
    out += ",\"commit_ts\":";
    append_string(out, v.commit_ts);
    out += ",\"commit_lsn\":";
    append_string(out, format_lsn(v.position.commit_lsn));
    out += ",\"seq\":" + std::to_string(v.position.seq) + ",\"xid\":" + std::to_string(v.xid) +
           ",\"row\":" + (v.has_row ? row_json(v.row) : std::string("null")) +
           ",\"changed\":" + (v.changed_json.empty() ? std::string("null") : v.changed_json) + "}";
    return out;
}

std::string history_table(const std::vector<HistoryVersion>& versions) {
    std::string out;
    for (const HistoryVersion& v : versions) {
        out += v.commit_ts + "  " + std::string(changeset::op_name(v.op)) + "  (commit_lsn " +
               format_lsn(v.position.commit_lsn) + ", seq " + std::to_string(v.position.seq) +
               ", xid " + std::to_string(v.xid) + ")\n";
        rapidjson::Document changed;
        if (!v.changed_json.empty()) {
            // With its length: from a NUL-terminated string rapidjson's SSE2 scan
            // (RAPIDJSON_SSE2) loads 16 bytes at a time, past the end of the buffer.
            changed.Parse<rapidjson::kParseFullPrecisionFlag>(v.changed_json.data(),
                                                              v.changed_json.size());
        }
        if (!v.changed_json.empty() && changed.IsObject()) {
            for (const auto& m : changed.GetObject()) {
                out += "    " + std::string(m.name.GetString()) + ": " + compact(m.value["old"]) +
                       " -> " + compact(m.value["new"]) + "\n";
            }
        } else if (v.has_row) {
            for (const JsonColumn& c : v.row) {
                out += "    " + c.name + " = " + value_text(c) + "\n";
            }
        }
    }
    return out;
}

}  // namespace pgcs::apply
