// Typed pgoutput messages: what the decoder (decoder.hpp) produces from the bytes of one
// XLogData payload. Strings and values are views into the caller's buffer: they live as long
// as that buffer does. Protocol:
// https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "core/pgoutput/lsn.hpp"

namespace pgcs::pgoutput {

using Xid = std::uint32_t;
using Oid = std::uint32_t;
// PostgreSQL timestamps: microseconds since 2000-01-01 00:00:00 UTC.
using PgTimestamp = std::int64_t;

// The first byte of every pgoutput message (LOGICAL_REP_MSG_* in PostgreSQL's logicalproto.h).
// A byte that is none of these is still representable: the decoder rejects it.
enum class MessageType : char {
    Begin = 'B',
    Commit = 'C',
    Origin = 'O',
    Relation = 'R',
    Type = 'Y',
    Insert = 'I',
    Update = 'U',
    Delete = 'D',
    Truncate = 'T',
    Message = 'M',
    StreamStart = 'S',
    StreamStop = 'E',
    StreamCommit = 'c',
    StreamAbort = 'A',
};

// The type byte of a message's bytes; call only on a non-empty buffer.
inline MessageType message_type(std::span<const std::byte> bytes) {
    return static_cast<MessageType>(bytes[0]);
}

struct Begin {
    Lsn final_lsn = 0;  // LSN of the commit record
    PgTimestamp commit_time = 0;
    Xid xid = 0;
};

struct Commit {
    std::uint8_t flags = 0;
    Lsn commit_lsn = 0;  // LSN of the commit record
    Lsn end_lsn = 0;     // end of the commit record: what the slot may be acknowledged up to
    PgTimestamp commit_time = 0;
};

struct Origin {
    Lsn commit_lsn = 0;
    std::string_view name;
};

struct Column {
    bool is_key = false;  // flags bit 1: part of the replica identity
    std::string_view name;
    Oid type_oid = 0;
    std::int32_t type_modifier = -1;
};

struct Relation {
    std::optional<Xid> xid;  // present inside a streamed transaction (v2+)
    Oid oid = 0;
    std::string_view schema;  // "" means pg_catalog, as pgoutput sends it
    std::string_view name;
    char replica_identity = 'd';  // 'd' default, 'n' nothing, 'f' full, 'i' index
    std::vector<Column> columns;
};

struct Type {
    std::optional<Xid> xid;
    Oid oid = 0;
    std::string_view schema;
    std::string_view name;
};

// One column of a TupleData: kind is 'n' (null), 'u' (unchanged TOAST, no data),
// 't' (text format) or 'b' (binary format).
struct TupleValue {
    char kind = 'n';
    std::string_view data;
};

using Tuple = std::vector<TupleValue>;

struct Insert {
    std::optional<Xid> xid;
    Oid relation_oid = 0;
    Tuple new_tuple;
};

struct Update {
    std::optional<Xid> xid;
    Oid relation_oid = 0;
    char old_kind = 0;  // 0 (no old tuple), 'K' (old key) or 'O' (old row, REPLICA IDENTITY FULL)
    Tuple old_tuple;
    Tuple new_tuple;
};

struct Delete {
    std::optional<Xid> xid;
    Oid relation_oid = 0;
    char old_kind = 'K';  // 'K' or 'O'
    Tuple old_tuple;
};

struct Truncate {
    std::optional<Xid> xid;
    static constexpr std::uint8_t kCascade = 1;
    static constexpr std::uint8_t kRestartIdentity = 2;
    std::uint8_t options = 0;
    std::vector<Oid> relation_oids;
};

// A logical decoding message (pg_logical_emit_message), option `messages` (PG14+).
struct LogicalMessage {
    std::optional<Xid> xid;
    bool transactional = false;
    Lsn lsn = 0;
    std::string_view prefix;
    std::string_view content;
};

// Protocol v2 streaming of in-progress transactions (PG14+).
struct StreamStart {
    Xid xid = 0;
    bool first_segment = false;
};
struct StreamStop {};
struct StreamCommit {
    Xid xid = 0;
    std::uint8_t flags = 0;
    Lsn commit_lsn = 0;
    Lsn end_lsn = 0;
    PgTimestamp commit_time = 0;
};
struct StreamAbort {
    Xid xid = 0;
    Xid subxid = 0;
    std::optional<Lsn> abort_lsn;  // v4 (streaming 'parallel') only
    std::optional<PgTimestamp> abort_time;
};

using Message =
    std::variant<Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate,
                 LogicalMessage, StreamStart, StreamStop, StreamCommit, StreamAbort>;

}  // namespace pgcs::pgoutput
