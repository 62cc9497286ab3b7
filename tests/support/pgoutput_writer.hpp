// Test helper: writes the pgoutput bytes of a message, the inverse of core/pgoutput/decoder.hpp,
// mirroring PostgreSQL's proto.c (logicalrep_write_*). Lets any test start from real bytes:
//   auto bytes = pgcs::testing::write(pgoutput::Insert{...}, {.proto_version = 2});
// ByteWriter builds hand-made (e.g. corrupt) messages field by field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/pgoutput/decoder.hpp"
#include "core/pgoutput/messages.hpp"

namespace pgcs::testing {

// Appends big-endian pgoutput fields to a byte buffer.
class ByteWriter {
  public:
    ByteWriter& byte1(char c) { return int8(static_cast<std::uint8_t>(c)); }
    ByteWriter& int8(std::uint8_t v) {
        bytes_.push_back(static_cast<std::byte>(v));
        return *this;
    }
    ByteWriter& int16(std::uint16_t v) { return big_endian(v, 2); }
    ByteWriter& int32(std::uint32_t v) { return big_endian(v, 4); }
    ByteWriter& int64(std::uint64_t v) { return big_endian(v, 8); }
    // Null-terminated String.
    ByteWriter& string(std::string_view s) { return raw(s).int8(0); }
    // Int32 length + bytes (tuple values, logical message content).
    ByteWriter& sized(std::string_view s) {
        return int32(static_cast<std::uint32_t>(s.size())).raw(s);
    }
    // Bytes as they are, no length or terminator.
    ByteWriter& raw(std::string_view s) {
        for (char c : s) {
            byte1(c);
        }
        return *this;
    }

    const std::vector<std::byte>& bytes() const { return bytes_; }
    std::vector<std::byte> take() { return std::move(bytes_); }

  private:
    ByteWriter& big_endian(std::uint64_t v, int width) {
        for (int shift = 8 * (width - 1); shift >= 0; shift -= 8) {
            int8(static_cast<std::uint8_t>(v >> shift));
        }
        return *this;
    }

    std::vector<std::byte> bytes_;
};

namespace detail {

namespace pg = pgcs::pgoutput;

// The xid prefix of data messages inside a stream. The message must agree with the options
// (the decoder sets xid exactly when in_stream), so a round trip compares equal.
inline void write_stream_xid(ByteWriter& out, const std::optional<pg::Xid>& xid,
                             const pg::DecodeOptions& options) {
    if (options.in_stream != xid.has_value()) {
        throw std::invalid_argument(options.in_stream
                                        ? "pgoutput writer: in_stream needs the message's xid"
                                        : "pgoutput writer: xid set but not in_stream");
    }
    if (xid) {
        out.int32(*xid);
    }
}

// TupleData. Kinds 'n' and 'u' carry no data; any other kind (also an invalid one, for
// corrupt-input tests) is written with an Int32 length and its data.
inline void write_tuple(ByteWriter& out, const pg::Tuple& tuple) {
    out.int16(static_cast<std::uint16_t>(tuple.size()));
    for (const pg::TupleValue& value : tuple) {
        out.byte1(value.kind);
        if (value.kind != 'n' && value.kind != 'u') {
            out.sized(value.data);
        }
    }
}

inline void write_body(ByteWriter& out, const pg::Begin& m, const pg::DecodeOptions&) {
    out.byte1('B').int64(m.final_lsn).int64(static_cast<std::uint64_t>(m.commit_time)).int32(m.xid);
}

inline void write_body(ByteWriter& out, const pg::Commit& m, const pg::DecodeOptions&) {
    out.byte1('C').int8(m.flags).int64(m.commit_lsn).int64(m.end_lsn);
    out.int64(static_cast<std::uint64_t>(m.commit_time));
}

inline void write_body(ByteWriter& out, const pg::Origin& m, const pg::DecodeOptions&) {
    out.byte1('O').int64(m.commit_lsn).string(m.name);
}

inline void write_body(ByteWriter& out, const pg::Relation& m, const pg::DecodeOptions& options) {
    out.byte1('R');
    write_stream_xid(out, m.xid, options);
    out.int32(m.oid).string(m.schema).string(m.name);
    out.int8(static_cast<std::uint8_t>(m.replica_identity));
    out.int16(static_cast<std::uint16_t>(m.columns.size()));
    for (const pg::Column& column : m.columns) {
        out.int8(column.is_key ? 1 : 0).string(column.name).int32(column.type_oid);
        out.int32(static_cast<std::uint32_t>(column.type_modifier));
    }
}

inline void write_body(ByteWriter& out, const pg::Type& m, const pg::DecodeOptions& options) {
    out.byte1('Y');
    write_stream_xid(out, m.xid, options);
    out.int32(m.oid).string(m.schema).string(m.name);
}

inline void write_body(ByteWriter& out, const pg::Insert& m, const pg::DecodeOptions& options) {
    out.byte1('I');
    write_stream_xid(out, m.xid, options);
    out.int32(m.relation_oid).byte1('N');
    write_tuple(out, m.new_tuple);
}

// old_kind 0 writes no old tuple; 'K' or 'O' writes it before the new one.
inline void write_body(ByteWriter& out, const pg::Update& m, const pg::DecodeOptions& options) {
    out.byte1('U');
    write_stream_xid(out, m.xid, options);
    out.int32(m.relation_oid);
    if (m.old_kind != 0) {
        out.byte1(m.old_kind);
        write_tuple(out, m.old_tuple);
    }
    out.byte1('N');
    write_tuple(out, m.new_tuple);
}

inline void write_body(ByteWriter& out, const pg::Delete& m, const pg::DecodeOptions& options) {
    out.byte1('D');
    write_stream_xid(out, m.xid, options);
    out.int32(m.relation_oid).byte1(m.old_kind);
    write_tuple(out, m.old_tuple);
}

inline void write_body(ByteWriter& out, const pg::Truncate& m, const pg::DecodeOptions& options) {
    out.byte1('T');
    write_stream_xid(out, m.xid, options);
    out.int32(static_cast<std::uint32_t>(m.relation_oids.size())).int8(m.options);
    for (pg::Oid oid : m.relation_oids) {
        out.int32(oid);
    }
}

inline void write_body(ByteWriter& out, const pg::LogicalMessage& m,
                       const pg::DecodeOptions& options) {
    out.byte1('M');
    write_stream_xid(out, m.xid, options);
    out.int8(m.transactional ? 1 : 0).int64(m.lsn).string(m.prefix).sized(m.content);
}

inline void write_body(ByteWriter& out, const pg::StreamStart& m, const pg::DecodeOptions&) {
    out.byte1('S').int32(m.xid).int8(m.first_segment ? 1 : 0);
}

inline void write_body(ByteWriter& out, const pg::StreamStop&, const pg::DecodeOptions&) {
    out.byte1('E');
}

inline void write_body(ByteWriter& out, const pg::StreamCommit& m, const pg::DecodeOptions&) {
    out.byte1('c').int32(m.xid).int8(m.flags).int64(m.commit_lsn).int64(m.end_lsn);
    out.int64(static_cast<std::uint64_t>(m.commit_time));
}

// streaming 'parallel' (v4+) adds abort LSN and timestamp: they must be set exactly then.
inline void write_body(ByteWriter& out, const pg::StreamAbort& m,
                       const pg::DecodeOptions& options) {
    const bool with_abort_info = options.parallel;
    if (with_abort_info != (m.abort_lsn.has_value() && m.abort_time.has_value()) ||
        m.abort_lsn.has_value() != m.abort_time.has_value()) {
        throw std::invalid_argument(
            "pgoutput writer: Stream Abort has abort_lsn and abort_time exactly when "
            "streaming 'parallel'");
    }
    out.byte1('A').int32(m.xid).int32(m.subxid);
    if (with_abort_info) {
        out.int64(*m.abort_lsn).int64(static_cast<std::uint64_t>(*m.abort_time));
    }
}

}  // namespace detail

// Appends the bytes of one message (one XLogData payload) as pgoutput would send them with
// these options. Throws std::invalid_argument when the message disagrees with the options
// (xid without in_stream or the reverse; Stream Abort's v4 fields).
inline void write(ByteWriter& out, const pgoutput::Message& message,
                  const pgoutput::DecodeOptions& options = {}) {
    std::visit([&](const auto& m) { detail::write_body(out, m, options); }, message);
}

inline std::vector<std::byte> write(const pgoutput::Message& message,
                                    const pgoutput::DecodeOptions& options = {}) {
    ByteWriter out;
    write(out, message, options);
    return out.take();
}

}  // namespace pgcs::testing
