// pgoutput bytes -> typed messages: one reader per message type, mirroring PostgreSQL's
// src/backend/replication/logical/proto.c (logicalrep_read_*). Formats:
// https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
#include "core/pgoutput/decoder.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "core/pgoutput/byte_reader.hpp"

namespace pgcs::pgoutput {
namespace {

// The smallest encoding of one element, used to bound counts before reserving.
constexpr std::size_t kMinTupleColumnBytes = 1;      // kind 'n' or 'u'
constexpr std::size_t kMinRelationColumnBytes = 10;  // flags, "" name, type oid, typmod
constexpr std::size_t kOidBytes = 4;
constexpr int kStreamingVersion = 2;  // LOGICALREP_PROTO_STREAM_VERSION_NUM
constexpr int kParallelVersion = 4;   // LOGICALREP_PROTO_STREAM_PARALLEL_VERSION_NUM
constexpr int kMaxSupportedVersion = 4;

const char* type_name(char type) {
    switch (static_cast<MessageType>(type)) {
        case MessageType::Begin:
            return "Begin";
        case MessageType::Commit:
            return "Commit";
        case MessageType::Origin:
            return "Origin";
        case MessageType::Relation:
            return "Relation";
        case MessageType::Type:
            return "Type";
        case MessageType::Insert:
            return "Insert";
        case MessageType::Update:
            return "Update";
        case MessageType::Delete:
            return "Delete";
        case MessageType::Truncate:
            return "Truncate";
        case MessageType::Message:
            return "Message";
        case MessageType::StreamStart:
            return "Stream Start";
        case MessageType::StreamStop:
            return "Stream Stop";
        case MessageType::StreamCommit:
            return "Stream Commit";
        case MessageType::StreamAbort:
            return "Stream Abort";
        default:
            return nullptr;
    }
}

// 'x' for a printable byte, 0xNN otherwise: tags in errors must not print control bytes.
std::string quote(char c) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
        return std::string("'") + c + "'";
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", byte);
    return hex;
}

// "Insert ('I')"; just "message" for an empty buffer or an unknown type (whose error text
// quotes it).
std::string describe_type(char type) {
    if (const char* name = type_name(type)) {
        return std::string(name) + " (" + quote(type) + ")";
    }
    return "message";
}

// Data messages inside Stream Start .. Stream Stop carry the streamed transaction's xid.
std::optional<Xid> read_stream_xid(ByteReader& in, const DecodeOptions& options) {
    if (!options.in_stream) {
        return std::nullopt;
    }
    return in.read_int32("xid");
}

Tuple read_tuple(ByteReader& in) {
    const std::size_t at = in.offset();
    const std::uint16_t ncols = in.read_int16("tuple column count");
    in.check_count(at, ncols, kMinTupleColumnBytes, "tuple column count");
    Tuple tuple;
    tuple.reserve(ncols);
    for (std::uint16_t i = 0; i < ncols; ++i) {
        const std::size_t kind_at = in.offset();
        TupleValue value;
        value.kind = in.read_byte1("tuple column kind");
        switch (value.kind) {
            case 'n':  // null
            case 'u':  // unchanged TOAST value: not sent, and not a null either
                break;
            case 't':
            case 'b':
                value.data = in.read_sized_bytes("tuple column value");
                break;
            default:
                in.fail(kind_at, "unknown tuple column kind " + quote(value.kind) + " in column " +
                                     std::to_string(i));
        }
        tuple.push_back(value);
    }
    return tuple;
}

Begin read_begin(ByteReader& in) {
    Begin m;
    m.final_lsn = in.read_int64("final LSN");
    m.commit_time = static_cast<PgTimestamp>(in.read_int64("commit timestamp"));
    m.xid = in.read_int32("xid");
    return m;
}

Commit read_commit(ByteReader& in) {
    Commit m;
    m.flags = in.read_int8("flags");
    m.commit_lsn = in.read_int64("commit LSN");
    m.end_lsn = in.read_int64("end LSN");
    m.commit_time = static_cast<PgTimestamp>(in.read_int64("commit timestamp"));
    return m;
}

Origin read_origin(ByteReader& in) {
    Origin m;
    m.commit_lsn = in.read_int64("commit LSN");
    m.name = in.read_string("origin name");
    return m;
}

Relation read_relation(ByteReader& in, const DecodeOptions& options) {
    Relation m;
    m.xid = read_stream_xid(in, options);
    m.oid = in.read_int32("relation oid");
    m.schema = in.read_string("namespace");
    m.name = in.read_string("relation name");
    m.replica_identity = static_cast<char>(in.read_int8("replica identity"));
    const std::size_t at = in.offset();
    const std::uint16_t ncols = in.read_int16("column count");
    in.check_count(at, ncols, kMinRelationColumnBytes, "column count");
    m.columns.reserve(ncols);
    for (std::uint16_t i = 0; i < ncols; ++i) {
        Column column;
        column.is_key = (in.read_int8("column flags") & 1) != 0;
        column.name = in.read_string("column name");
        column.type_oid = in.read_int32("column type oid");
        column.type_modifier = static_cast<std::int32_t>(in.read_int32("column type modifier"));
        m.columns.push_back(column);
    }
    return m;
}

Type read_type(ByteReader& in, const DecodeOptions& options) {
    Type m;
    m.xid = read_stream_xid(in, options);
    m.oid = in.read_int32("type oid");
    m.schema = in.read_string("namespace");
    m.name = in.read_string("type name");
    return m;
}

Insert read_insert(ByteReader& in, const DecodeOptions& options) {
    Insert m;
    m.xid = read_stream_xid(in, options);
    m.relation_oid = in.read_int32("relation oid");
    const std::size_t at = in.offset();
    if (const char tag = in.read_byte1("new tuple tag"); tag != 'N') {
        in.fail(at, "expected new tuple tag 'N', got " + quote(tag));
    }
    m.new_tuple = read_tuple(in);
    return m;
}

// Update: an optional old tuple ('K' key columns, 'O' whole old row), then 'N' new tuple.
Update read_update(ByteReader& in, const DecodeOptions& options) {
    Update m;
    m.xid = read_stream_xid(in, options);
    m.relation_oid = in.read_int32("relation oid");
    std::size_t at = in.offset();
    char tag = in.read_byte1("tuple tag");
    if (tag == 'K' || tag == 'O') {
        m.old_kind = tag;
        m.old_tuple = read_tuple(in);
        at = in.offset();
        tag = in.read_byte1("new tuple tag");
        if (tag != 'N') {
            in.fail(at, "expected new tuple tag 'N', got " + quote(tag));
        }
    } else if (tag != 'N') {
        in.fail(at, "expected tuple tag 'K', 'O' or 'N', got " + quote(tag));
    }
    m.new_tuple = read_tuple(in);
    return m;
}

Delete read_delete(ByteReader& in, const DecodeOptions& options) {
    Delete m;
    m.xid = read_stream_xid(in, options);
    m.relation_oid = in.read_int32("relation oid");
    const std::size_t at = in.offset();
    m.old_kind = in.read_byte1("old tuple tag");
    if (m.old_kind != 'K' && m.old_kind != 'O') {
        in.fail(at, "expected old tuple tag 'K' or 'O', got " + quote(m.old_kind));
    }
    m.old_tuple = read_tuple(in);
    return m;
}

Truncate read_truncate(ByteReader& in, const DecodeOptions& options) {
    Truncate m;
    m.xid = read_stream_xid(in, options);
    const std::size_t at = in.offset();
    const auto nrels = static_cast<std::int32_t>(in.read_int32("relation count"));
    if (nrels < 0) {
        in.fail(at, "negative relation count " + std::to_string(nrels));
    }
    m.options = in.read_int8("options");
    in.check_count(at, static_cast<std::uint64_t>(nrels), kOidBytes, "relation count");
    m.relation_oids.reserve(static_cast<std::size_t>(nrels));
    for (std::int32_t i = 0; i < nrels; ++i) {
        m.relation_oids.push_back(in.read_int32("relation oid"));
    }
    return m;
}

LogicalMessage read_message(ByteReader& in, const DecodeOptions& options) {
    LogicalMessage m;
    m.xid = read_stream_xid(in, options);
    m.transactional = (in.read_int8("flags") & 1) != 0;
    m.lsn = in.read_int64("LSN");
    m.prefix = in.read_string("prefix");
    m.content = in.read_sized_bytes("content");
    return m;
}

StreamStart read_stream_start(ByteReader& in) {
    StreamStart m;
    m.xid = in.read_int32("xid");
    m.first_segment = in.read_int8("first segment") != 0;
    return m;
}

StreamCommit read_stream_commit(ByteReader& in) {
    StreamCommit m;
    m.xid = in.read_int32("xid");
    m.flags = in.read_int8("flags");
    m.commit_lsn = in.read_int64("commit LSN");
    m.end_lsn = in.read_int64("end LSN");
    m.commit_time = static_cast<PgTimestamp>(in.read_int64("commit timestamp"));
    return m;
}

// streaming 'parallel' (v4+) appends the abort LSN and timestamp; v4 with streaming 'on' does
// not (pgoutput_stream_abort writes them when data->streaming == LOGICALREP_STREAM_PARALLEL).
StreamAbort read_stream_abort(ByteReader& in, const DecodeOptions& options) {
    StreamAbort m;
    m.xid = in.read_int32("xid");
    m.subxid = in.read_int32("subtransaction xid");
    if (options.parallel) {
        m.abort_lsn = in.read_int64("abort LSN");
        m.abort_time = static_cast<PgTimestamp>(in.read_int64("abort timestamp"));
    }
    return m;
}

void check_options(const DecodeOptions& options) {
    if (options.proto_version < 1 || options.proto_version > kMaxSupportedVersion) {
        throw std::invalid_argument(
            "pgoutput proto_version " + std::to_string(options.proto_version) +
            " is not supported (1.." + std::to_string(kMaxSupportedVersion) + ")");
    }
    if (options.in_stream && options.proto_version < kStreamingVersion) {
        throw std::invalid_argument("pgoutput in_stream needs proto_version >= 2");
    }
    if (options.parallel && options.proto_version < kParallelVersion) {
        throw std::invalid_argument("pgoutput streaming 'parallel' needs proto_version >= 4");
    }
}

void require_streaming(const ByteReader& in, char type, const DecodeOptions& options) {
    if (options.proto_version < kStreamingVersion) {
        in.fail(0, std::string(type_name(type)) + " needs proto_version >= 2, the stream uses " +
                       std::to_string(options.proto_version));
    }
}

Message read_body(ByteReader& in, char type, const DecodeOptions& options) {
    switch (static_cast<MessageType>(type)) {
        case MessageType::Begin:
            return read_begin(in);
        case MessageType::Commit:
            return read_commit(in);
        case MessageType::Origin:
            return read_origin(in);
        case MessageType::Relation:
            return read_relation(in, options);
        case MessageType::Type:
            return read_type(in, options);
        case MessageType::Insert:
            return read_insert(in, options);
        case MessageType::Update:
            return read_update(in, options);
        case MessageType::Delete:
            return read_delete(in, options);
        case MessageType::Truncate:
            return read_truncate(in, options);
        case MessageType::Message:
            return read_message(in, options);
        case MessageType::StreamStart:
            require_streaming(in, type, options);
            return read_stream_start(in);
        case MessageType::StreamStop:
            require_streaming(in, type, options);
            return StreamStop{};
        case MessageType::StreamCommit:
            require_streaming(in, type, options);
            return read_stream_commit(in);
        case MessageType::StreamAbort:
            require_streaming(in, type, options);
            return read_stream_abort(in, options);
        default:
            // Never skip: an unknown type means we would silently lose changes (two-phase
            // 'b P K r p' included, which the source never enables).
            in.fail(0, "unknown message type " + quote(type));
    }
}

}  // namespace

DecodeError::DecodeError(char message_type, std::size_t offset, const std::string& what)
    : std::runtime_error("pgoutput " + describe_type(message_type) + " at byte " +
                         std::to_string(offset) + ": " + what),
      message_type_(message_type),
      offset_(offset) {}

Message decode(std::span<const std::byte> bytes, const DecodeOptions& options) {
    check_options(options);
    if (bytes.empty()) {
        throw DecodeError('\0', 0, "empty message");
    }
    const auto type = static_cast<char>(bytes[0]);
    ByteReader in(bytes, type, 1);
    Message message = read_body(in, type, options);
    in.expect_end();
    return message;
}

Xid stream_xid_of(std::span<const std::byte> bytes) {
    if (bytes.empty()) {
        throw DecodeError('\0', 0, "empty message");
    }
    ByteReader in(bytes, static_cast<char>(bytes[0]), 1);
    return in.read_int32("xid of a streamed transaction");
}

}  // namespace pgcs::pgoutput
