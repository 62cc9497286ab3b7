// pgoutput bytes -> typed messages. Pure: no I/O, no allocation beyond the vectors of the
// returned message, every length and count checked before use.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include "core/pgoutput/messages.hpp"

namespace pgcs::pgoutput {

// A malformed or truncated message. what() names the message type and the byte offset.
class DecodeError : public std::runtime_error {
  public:
    DecodeError(char message_type, std::size_t offset, const std::string& what);
    char message_type() const { return message_type_; }
    std::size_t offset() const { return offset_; }

  private:
    char message_type_;
    std::size_t offset_;
};

struct DecodeOptions {
    int proto_version = 1;
    // Inside Stream Start .. Stream Stop, data messages carry an xid prefix (v2+).
    bool in_stream = false;
    // streaming 'parallel' (v4+, PostgreSQL 16+): Stream Abort then carries the abort LSN and
    // time. The server writes them for that option only, not for every v4 stream.
    bool parallel = false;
};

// Decodes one pgoutput message (the payload of one XLogData). Throws DecodeError on a
// malformed, truncated or over-long message, or an unknown message type.
Message decode(std::span<const std::byte> bytes, const DecodeOptions& options);

// The (sub)transaction xid of a data message inside Stream Start .. Stream Stop: the four bytes
// after its type, read without decoding the rest. Throws DecodeError when they are missing.
Xid stream_xid_of(std::span<const std::byte> bytes);

}  // namespace pgcs::pgoutput
