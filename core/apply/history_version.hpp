// History mode's pure part: the row a version holds (unchanged TOAST merged from the previous
// version), the `changed` columns computed from the previous version (so they exist under every
// REPLICA IDENTITY), and a version printed as the contract's history line or as a table for a
// terminal. Values in, text out: no server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/apply/sink_event.hpp"

namespace pgcs::apply {

// One version of one row, as pgchangeset_history keeps it (README, "History mode").
struct HistoryVersion {
    EventOp op = EventOp::Added;
    bool has_row = false;
    JsonRow row;               // after the change; for deleted/truncated the row removed
    std::string changed_json;  // {"col":{"old":..,"new":..}}; empty: null
    std::string commit_ts;
    EventPosition position;
    std::uint64_t xid = 0;
};

// `after` with every column of `unchanged_toast` that `after` lacks taken from `previous` (when
// it has it); columns in `order` first, in that order, then any others.
JsonRow merge_unchanged_toast(const JsonRow& after, const std::vector<std::string>& unchanged_toast,
                              const JsonRow* previous, const std::vector<ColumnType>& order);

// Every column of `now` whose value differs from `old` (a column `old` lacks counts as SQL NULL;
// one `now` lacks, e.g. a TOAST value nobody sent, is not compared), in `now`'s order, as
// {"col":{"old":..,"new":..}}; "{}" when nothing differs. JSON null and SQL NULL differ.
std::string changed_json(const JsonRow& old_row, const JsonRow& now);

// {"col":value,...} in the row's order, and the columns whose null is JSON null.
std::string row_json(const JsonRow& row);
std::vector<std::string> json_null_columns(const JsonRow& row);

// A stored row (jsonb text, its keys in jsonb's order) back in `column_order` (others after);
// `json_null` names the columns whose null is JSON null. Throws EventError if not an object.
JsonRow parse_json_row(std::string_view object_json, const std::vector<std::string>& json_null,
                       const std::vector<std::string>& column_order);

// A stored `changed` (jsonb text) back in the contract's form: compact, columns in
// `column_order` (others after), "old" before "new". Throws EventError if not an object.
std::string format_changed(std::string_view stored, const std::vector<std::string>& column_order);

// ["a","b"] (array_to_json of a text[]) as names; [] for anything else.
std::vector<std::string> parse_name_list(std::string_view json_array);

// The contract's line: {"op":..,"commit_ts":..,"commit_lsn":..,"seq":..,"xid":..,"row":..,
// "changed":..}, no newline.
std::string history_line(const HistoryVersion& version);

// For a terminal: one block per version (when, op, position, then `col: old -> new` per
// changed column, or the row's columns for a version without `changed`).
std::string history_table(const std::vector<HistoryVersion>& versions);

}  // namespace pgcs::apply
