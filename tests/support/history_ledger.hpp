// The history test's own record of what it wrote to a table (id int PRIMARY KEY, name text,
// plan text, doc jsonb, big text): each row's true values after every statement, and the
// versions `pgchangeset sink` in history mode must keep for each key, with the true old and new
// value of every column that changed. Built from the test's statements, never from the sink.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgcs::testing {

// doc is "sql-null", "json-null" or JSON text; big is empty for SQL NULL.
struct LedgerRow {
    int id = 0;
    std::string name;
    std::string plan;
    std::string doc = "sql-null";
    std::string big;
};

struct LedgerVersion {
    std::string op;
    std::string row;      // JSON of the row, or "null"
    std::string changed;  // JSON {"col":{"old":..,"new":..}}, or "null"
    std::vector<std::string> json_null;
};

class HistoryLedger {
  public:
    static std::string quote(const std::string& s) {
        std::string out = "'";
        for (char c : s) {
            out += c;
            if (c == '\'') {
                out += '\'';
            }
        }
        return out + "'";
    }
    static std::string big_text(int id, int length = 3000) {
        return std::string(static_cast<std::size_t>(length), static_cast<char>('a' + id % 26));
    }
    // The columns as JSON values, in column order; a JSON null doc is "null" with its flag.
    static std::vector<std::pair<std::string, std::string>> values(const LedgerRow& r) {
        auto str = [](const std::string& s) { return "\"" + s + "\""; };
        return {{"id", std::to_string(r.id)},
                {"name", str(r.name)},
                {"plan", str(r.plan)},
                {"doc", r.doc == "sql-null" || r.doc == "json-null" ? "null" : r.doc},
                {"big", r.big.empty() ? "null" : str(r.big)}};
    }
    static std::string row_json(const LedgerRow& r) {
        std::string out = "{";
        for (const auto& [name, value] : values(r)) {
            out += (out.size() > 1 ? "," : "") + ("\"" + name + "\":") + value;
        }
        return out + "}";
    }
    static std::string changed_json(const LedgerRow& old_row, const LedgerRow& now) {
        const auto a = values(old_row);
        const auto b = values(now);
        std::string out = "{";
        for (std::size_t i = 0; i < a.size(); ++i) {
            const bool differ =
                a[i].second != b[i].second || (a[i].first == "doc" && old_row.doc != now.doc);
            if (differ) {
                out += (out.size() > 1 ? "," : "") + ("\"" + a[i].first + "\":{\"old\":") +
                       a[i].second + ",\"new\":" + b[i].second + "}";
            }
        }
        return out + "}";
    }
    static std::string insert_sql(const std::string& table, const LedgerRow& r) {
        const std::string doc = r.doc == "sql-null"    ? "NULL"
                                : r.doc == "json-null" ? "'null'::jsonb"
                                                       : quote(r.doc) + "::jsonb";
        return "INSERT INTO " + table + " VALUES (" + std::to_string(r.id) + ", " + quote(r.name) +
               ", " + quote(r.plan) + ", " + doc + ", " + (r.big.empty() ? "NULL" : quote(r.big)) +
               ")";
    }

    void record(int id, const std::string& op, const std::optional<LedgerRow>& row,
                const std::string& changed = "null") {
        LedgerVersion v{op, row ? row_json(*row) : "null", changed, {}};
        if (row && row->doc == "json-null") {
            v.json_null.push_back("doc");
        }
        versions[id].push_back(std::move(v));
        ++total;
    }
    void read(const LedgerRow& r) {
        rows[r.id] = r;
        record(r.id, "read", r);
    }
    void added(const LedgerRow& r) {
        rows[r.id] = r;
        record(r.id, "added", r);
    }
    void modified(const LedgerRow& r) {
        record(r.id, "modified", r, changed_json(rows.at(r.id), r));
        rows[r.id] = r;
    }
    void deleted(int id) {
        record(id, "deleted", rows.at(id));
        rows.erase(id);
    }
    void key_changed(int from, int to) {
        LedgerRow r = rows.at(from);
        deleted(from);
        LedgerRow old = r;
        r.id = to;
        rows[to] = r;
        record(to, "added", r, changed_json(old, r));
        key_changes.emplace_back(from, to);
    }
    void truncated() {
        for (const auto& [id, r] : rows) {
            record(id, "truncated", r);
        }
        rows.clear();
    }
    // Live ids matching `pred`.
    template <class Pred>
    std::vector<int> ids(Pred pred) const {
        std::vector<int> out;
        for (const auto& [id, r] : rows) {
            if (pred(id)) {
                out.push_back(id);
            }
        }
        return out;
    }

    std::map<int, LedgerRow> rows;  // the source's rows now
    std::map<int, std::vector<LedgerVersion>> versions;
    std::vector<std::pair<int, int>> key_changes;
    std::size_t total = 0;
};

}  // namespace pgcs::testing
