// A consumer of contract v2 for tests: applies a pipeline's Kafka records to a target PostgreSQL
// database the way README.md's "Consumer rules" say, each partition on its own in offset order.
// The target tables have the source's columns plus `_partition` (which partition wrote the row:
// a `truncated` event on partition P deletes exactly the rows P's events put there).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/capture_fixture.hpp"
#include "support/kafka_reader.hpp"
#include "support/pg_client.hpp"

namespace pgcs::testing {

// What the applier saw, for the test's report and checks.
struct ApplyCounts {
    std::size_t records = 0;
    std::size_t duplicates = 0;              // (commit_lsn, seq) seen before on the partition
    std::size_t tombstones = 0;              // null values
    std::size_t contract_headers = 0;        // events with "contract":2
    std::size_t other_contract = 0;          // events of another contract version: not applied
    std::size_t key_changes = 0;             // `added` with a non-null `before`
    std::size_t key_changing_modified = 0;   // `modified` whose `before` has another key (v1)
    std::size_t json_nulls = 0;              // columns set to JSON null from `json_null`
    std::map<std::string, std::size_t> ops;  // applied events by op
};

class ReplicaApplier {
  public:
    // `tombstones`: whether the pipeline writes them (kafka.tombstones), checked against the
    // records; nullopt: not checked.
    ReplicaApplier(PgClient& target, std::optional<bool> tombstones)
        : target_(target), tombstones_(tombstones) {}

    void apply(const Record& r) {
        ++counts_.records;
        if (!r.null_value) {
            // The contract version is the value's last field; a consumer applies only the
            // versions it knows.
            if (r.value.ends_with(",\"contract\":2}")) {
                ++counts_.contract_headers;
            } else {
                ++counts_.other_contract;
                return;
            }
        }
        Partition& part = partitions_[{r.topic, r.partition}];
        const std::string key = r.key.value_or("null");
        const std::string where = r.topic + "[" + std::to_string(r.partition) + "]@" +
                                  std::to_string(r.offset) + " key " + key;
        if (r.null_value) {
            ++counts_.tombstones;
            if (tombstones_ == false) {
                problem("a tombstone although kafka.tombstones is false: " + where);
            } else if (tombstones_ == true && part.awaiting_tombstone.erase(key) == 0) {
                problem("a tombstone that follows no deleted event of its key: " + where);
            }
            return;  // compaction's business: it carries no position to de-duplicate by
        }
        rapidjson::Document doc;
        doc.Parse<rapidjson::kParseFullPrecisionFlag>(r.value.c_str(), r.value.size());
        if (doc.HasParseError() || !doc.IsObject() ||
            !has(doc, "op", "schema", "table", "key", "types", "before", "after") ||
            !has(doc, "commit_lsn", "seq") || !doc["commit_lsn"].IsString() ||
            !doc["seq"].IsUint64()) {
            problem("not an event: " + where + ": " + r.value.substr(0, 200));
            return;
        }
        const std::string op = doc["op"].GetString();
        const EventId id{doc["commit_lsn"].GetString(), doc["seq"].GetUint64()};
        const bool duplicate = !part.seen.insert(id).second;
        if (const auto it = part.awaiting_tombstone.find(key);
            it != part.awaiting_tombstone.end()) {
            // Only the deleted event itself, sent again after a restart, may come between.
            if (!duplicate) {
                problem("the deleted event at " + it->second +
                        " is not followed by its "
                        "tombstone before the next event of its key, " +
                        op + " at " + where);
            }
            part.awaiting_tombstone.erase(it);
        }
        if (op == "deleted" && tombstones_ == true) {
            part.awaiting_tombstone[key] = where;
        }
        if (duplicate) {
            ++counts_.duplicates;
            return;
        }
        ++counts_.ops[op];
        if (op == "read" || op == "added" || op == "modified") {
            upsert(doc, r.partition);
        } else if (op == "deleted") {
            statement("DELETE FROM " + table_of(doc) + " WHERE " + key_condition(doc) + ";");
        } else if (op == "truncated") {
            statement("DELETE FROM " + table_of(doc) +
                      " WHERE _partition = " + std::to_string(r.partition) + ";");
        } else {
            problem("unknown op '" + op + "' at " + where);
        }
    }

    // Applies what is batched; call before reading the target.
    void flush() {
        if (batched_ == 0) {
            return;
        }
        const std::string error = target_.try_exec("BEGIN;" + batch_ + "COMMIT;");
        batch_.clear();
        batched_ = 0;
        if (!error.empty()) {
            target_.try_exec("ROLLBACK");
            throw std::runtime_error("the target database refused a batch of events: " +
                                     error.substr(0, 600));
        }
    }

    // At the end of every topic: flushes, and reports deleted events whose tombstone never came.
    void finish() {
        flush();
        for (auto& [partition, state] : partitions_) {
            for (const auto& [key, where] : state.awaiting_tombstone) {
                problem("the deleted event at " + where + " is the last of its key: no tombstone");
            }
            state.awaiting_tombstone.clear();
        }
    }

    const ApplyCounts& counts() const { return counts_; }
    // Records that break the contract's rules (first 20), and how many there were.
    const std::vector<std::string>& problems() const { return problems_; }
    std::size_t problem_count() const { return problem_count_; }

  private:
    using EventId = std::pair<std::string, std::uint64_t>;  // (commit_lsn, seq)
    struct Partition {
        std::set<EventId> seen;
        std::map<std::string, std::string> awaiting_tombstone;  // key -> where its deleted is
    };

    template <typename... Names>
    static bool has(const rapidjson::Value& doc, Names... names) {
        return (doc.HasMember(names) && ...);
    }

    static std::string quote_literal(const std::string& text) {
        std::string out = "'";
        for (const char c : text) {
            out += c;
            if (c == '\'') {
                out += '\'';
            }
        }
        return out + "'";
    }
    static std::string quote_ident(const std::string& name) {
        std::string out = "\"";
        for (const char c : name) {
            out += c;
            if (c == '"') {
                out += '"';
            }
        }
        return out + "\"";
    }

    // A column's JSON value as an SQL expression of its type (`types`). JSON null is SQL NULL
    // unless `json_null` names the column: then it is the JSON literal null.
    static std::string sql_value(const rapidjson::Value& v, const std::string& type,
                                 bool json_null) {
        const std::string cast = "::" + quote_ident(type);
        if (json_null) {
            return "'null'" + cast;
        }
        if (v.IsNull()) {
            return "NULL" + cast;
        }
        std::string text;
        if (type == "json" || type == "jsonb") {
            text = json_text(v);
        } else if (v.IsString()) {
            text.assign(v.GetString(), v.GetStringLength());
        } else {
            text = json_text(v);  // numbers (a parsed -0.0 prints as -0.0), booleans
        }
        if (type == "bytea") {
            return "decode(" + quote_literal(text) + ", 'base64')";
        }
        return quote_literal(text) + cast;
    }

    static std::string table_of(const rapidjson::Value& doc) {
        return quote_ident(doc["schema"].GetString()) + "." + quote_ident(doc["table"].GetString());
    }
    static std::string type_of(const rapidjson::Value& doc, const char* column) {
        const auto& types = doc["types"];
        return types.HasMember(column) ? types[column].GetString() : "text";
    }

    std::string key_condition(const rapidjson::Value& doc) {
        const auto& key = doc["key"];
        if (!key.IsObject()) {
            problem("an event without a key: " + json_text(doc).substr(0, 200));
            return "false";
        }
        std::string out;
        for (const auto& m : key.GetObject()) {
            out += (out.empty() ? "" : " AND ") + quote_ident(m.name.GetString()) + " = " +
                   sql_value(m.value, type_of(doc, m.name.GetString()), false);
        }
        return out;
    }

    // Columns present in `after` overwrite the target's row; absent ones (unchanged TOAST under
    // REPLICA IDENTITY DEFAULT) keep the value the target has.
    void upsert(const rapidjson::Value& doc, std::int32_t partition) {
        const auto& after = doc["after"];
        const auto& key = doc["key"];
        if (!after.IsObject() || !key.IsObject()) {
            problem("an upsert without after or key: " + json_text(doc).substr(0, 200));
            return;
        }
        std::set<std::string> json_nulls;
        if (doc.HasMember("json_null") && doc["json_null"].IsObject() &&
            doc["json_null"].HasMember("after") && doc["json_null"]["after"].IsArray()) {
            for (const auto& c : doc["json_null"]["after"].GetArray()) {
                json_nulls.insert(c.GetString());
            }
        }
        const std::string op = doc["op"].GetString();
        if (op == "added" && !doc["before"].IsNull()) {
            ++counts_.key_changes;
        }
        if (op == "modified" && doc["before"].IsObject()) {
            for (const auto& m : key.GetObject()) {
                const auto& before = doc["before"];
                if (!before.HasMember(m.name) || json_text(before[m.name]) != json_text(m.value)) {
                    ++counts_.key_changing_modified;
                    break;
                }
            }
        }
        std::string columns;
        std::string values;
        std::string updates;
        for (const auto& m : after.GetObject()) {
            const std::string name = m.name.GetString();
            const bool json_null = json_nulls.count(name) != 0;
            if (json_null) {
                ++counts_.json_nulls;
                if (!m.value.IsNull()) {
                    problem("json_null names " + name + " whose after value is not null");
                }
            }
            columns += quote_ident(name) + ", ";
            values += sql_value(m.value, type_of(doc, name.c_str()), json_null) + ", ";
            updates += quote_ident(name) + " = EXCLUDED." + quote_ident(name) + ", ";
        }
        std::string conflict;
        for (const auto& m : key.GetObject()) {
            conflict += (conflict.empty() ? "" : ", ") + quote_ident(m.name.GetString());
        }
        statement("INSERT INTO " + table_of(doc) + " (" + columns + "_partition) VALUES (" +
                  values + std::to_string(partition) + ") ON CONFLICT (" + conflict +
                  ") DO UPDATE SET " + updates + "_partition = EXCLUDED._partition;");
    }

    void statement(const std::string& sql) {
        batch_ += sql;
        if (++batched_ >= 2000 || batch_.size() > (8U << 20U)) {
            flush();
        }
    }

    void problem(const std::string& what) {
        if (++problem_count_ <= 20) {
            problems_.push_back(what);
        }
    }

    PgClient& target_;
    std::optional<bool> tombstones_;
    std::map<std::pair<std::string, std::int32_t>, Partition> partitions_;
    std::string batch_;
    std::size_t batched_ = 0;
    ApplyCounts counts_;
    std::vector<std::string> problems_;
    std::size_t problem_count_ = 0;
};

}  // namespace pgcs::testing
