// The sink's view of one Kafka record of a pipeline: a contract v2 native event parsed into
// what an applier needs (op, table, key, rows as SQL-ready values, position). Pure: bytes in,
// value out; a value that is not a contract v2 event is an EventError naming what is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/changeset/changeset.hpp"
#include "core/pgoutput/lsn.hpp"

namespace pgcs::apply {

using EventOp = changeset::Op;  // the contract's ops, named by changeset::op_name

// One column value of a row image. `text` is PostgreSQL input text for the column's type
// (a JSON array as an array literal, base64 bytea decoded by the SQL writer); SQL NULL has
// sql_null set. JSON null of a json/jsonb column is the text "null", not SQL NULL.
struct ColumnValue {
    std::string name;
    std::string text;
    bool sql_null = false;
    bool operator==(const ColumnValue&) const = default;
};

// One column value as the event carries it, for history mode: `json` is the value's compact JSON
// text; json_null is true when it is the JSON literal null of a json/jsonb column (named in the
// event's json_null), false for SQL NULL (and for every other value).
struct JsonColumn {
    std::string name;
    std::string json;
    bool json_null = false;
    bool operator==(const JsonColumn&) const = default;
};
using JsonRow = std::vector<JsonColumn>;

struct ColumnType {
    std::string name;
    std::string type;  // PostgreSQL type name from `types` ("int8", "_text", an enum's name)
    bool operator==(const ColumnType&) const = default;
};

// (commit_lsn, seq): the event's place in the source's commit order.
struct EventPosition {
    std::uint64_t commit_lsn = 0;
    std::uint64_t seq = 0;
    auto operator<=>(const EventPosition&) const = default;
};

struct SinkEvent {
    EventOp op = EventOp::Added;
    std::string schema;
    std::string table;
    std::vector<ColumnValue> key;     // empty for truncated
    std::vector<ColumnValue> before;  // empty when `before` is null
    bool has_before = false;
    std::vector<ColumnValue> after;  // empty for deleted and truncated
    std::vector<ColumnType> types;   // in the event's order (the table's column order)
    std::vector<std::string> unchanged_toast;
    std::string key_json;  // the key object's compact JSON text ("null" for truncated)
    JsonRow before_json;   // `before` and `after` as the event carries them (history mode)
    JsonRow after_json;
    std::string commit_ts;
    std::uint64_t xid = 0;
    EventPosition position;
};

class EventError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Parses a record value. Throws EventError when it is not a contract v2 native event: not
// JSON, a field missing or of the wrong kind, another contract version, a debezium value.
SinkEvent parse_sink_event(std::string_view value);

}  // namespace pgcs::apply
