// Compares a table of the source database with its replica in the target, in SQL on both sides:
// the row count and the md5 of every row's text in key order, byte for byte. On a difference it
// names the first keys that differ and shows the start of both rows.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/pg_client.hpp"

namespace pgcs::testing {

struct ReplicaTable {
    std::string name;     // schema-qualified, the same in both databases
    std::string key;      // the primary key's columns, e.g. "region, id"
    std::string columns;  // the source's columns, in order (the target's _partition is left out)
};

// "" when both sides hold the same rows; otherwise what differs.
inline std::string compare_replica(PgClient& source, PgClient& target, const ReplicaTable& t) {
    const std::string row = "ROW(" + t.columns + ")::text";
    const std::string summary = "SELECT count(*) || ' rows, md5 ' || coalesce(md5(string_agg(" +
                                row + ", E'\\n' ORDER BY " + t.key + ")), '-') FROM " + t.name;
    const std::string in_source = source.value(summary);
    const std::string in_target = target.value(summary);
    if (in_source == in_target) {
        return "";
    }
    // Each row as: key TAB md5 TAB the row's first 160 characters.
    const std::string listing = "SELECT coalesce(string_agg(ROW(" + t.key +
                                ")::text || E'\\t' || md5(" + row + ") || E'\\t' || left(" + row +
                                ", 160), E'\\n' ORDER BY " + t.key + "), '') FROM " + t.name;
    auto rows_of = [&](PgClient& pg, std::vector<std::string>& order) {
        std::map<std::string, std::string> rows;
        std::istringstream in(pg.value(listing));
        for (std::string line; std::getline(in, line);) {
            const auto tab = line.find('\t');
            order.push_back(line.substr(0, tab));
            rows[order.back()] = line.substr(tab + 1);
        }
        return rows;
    };
    std::vector<std::string> source_order;
    std::vector<std::string> target_order;
    const auto source_rows = rows_of(source, source_order);
    const auto target_rows = rows_of(target, target_order);
    std::ostringstream out;
    out << t.name << ": source " << in_source << ", replica " << in_target;
    int shown = 0;
    for (const auto& k : source_order) {
        const auto it = target_rows.find(k);
        if (it == target_rows.end() || it->second != source_rows.at(k)) {
            if (++shown > 8) {
                break;
            }
            out << "\n  key " << k << "\n    source:  " << source_rows.at(k)
                << "\n    replica: " << (it == target_rows.end() ? "(missing)" : it->second);
        }
    }
    for (const auto& k : target_order) {
        if (source_rows.count(k) == 0 && ++shown <= 8) {
            out << "\n  key " << k
                << "\n    source:  (missing)\n    replica: " << target_rows.at(k);
        }
    }
    return out.str();
}

}  // namespace pgcs::testing
