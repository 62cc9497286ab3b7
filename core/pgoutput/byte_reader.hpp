// Bounds-checked big-endian cursor over one pgoutput message: every read of the decoder goes
// through here, so a length or count taken from the input is checked in exactly one place.
// Private to core/pgoutput/ (not part of the decoder's public API).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "core/pgoutput/decoder.hpp"

namespace pgcs::pgoutput {

class ByteReader {
  public:
    // `message_type` names the message in errors; reading starts at `offset` (after the type).
    ByteReader(std::span<const std::byte> bytes, char message_type, std::size_t offset)
        : bytes_(bytes), message_type_(message_type), pos_(offset) {}

    std::size_t offset() const { return pos_; }
    std::size_t remaining() const { return bytes_.size() - pos_; }

    // Byte1: a one-character tag ('N', 'K', 't', ...).
    char read_byte1(const char* field) { return static_cast<char>(take(1, field)[0]); }
    std::uint8_t read_int8(const char* field) {
        return static_cast<std::uint8_t>(take(1, field)[0]);
    }
    std::uint16_t read_int16(const char* field) {
        return static_cast<std::uint16_t>(read_big_endian(take(2, field)));
    }
    std::uint32_t read_int32(const char* field) {
        return static_cast<std::uint32_t>(read_big_endian(take(4, field)));
    }
    std::uint64_t read_int64(const char* field) { return read_big_endian(take(8, field)); }

    // A signed Int32 length followed by that many bytes; rejects negative and over-long ones.
    std::string_view read_sized_bytes(const char* field) {
        const std::size_t at = pos_;
        const auto length = static_cast<std::int32_t>(read_int32(field));
        if (length < 0) {
            fail(at, std::string("negative length ") + std::to_string(length) + " of " + field);
        }
        if (static_cast<std::size_t>(length) > remaining()) {
            fail(at, std::string("length ") + std::to_string(length) + " of " + field +
                         " exceeds the " + std::to_string(remaining()) + " bytes left");
        }
        return as_chars(take(static_cast<std::size_t>(length), field));
    }

    // A null-terminated String; the view excludes the terminator and points into the input.
    std::string_view read_string(const char* field) {
        const std::byte* begin = bytes_.data() + pos_;
        const void* nul = remaining() == 0 ? nullptr : std::memchr(begin, 0, remaining());
        if (nul == nullptr) {
            fail(pos_, std::string("unterminated ") + field + " (no NUL in the " +
                           std::to_string(remaining()) + " bytes left)");
        }
        const auto length = static_cast<std::size_t>(static_cast<const std::byte*>(nul) - begin);
        std::string_view text = as_chars(take(length, field));
        pos_ += 1;  // the terminator
        return text;
    }

    // Before reserving `count` elements: each needs at least `min_bytes_each` more bytes, so a
    // corrupt count fails here instead of causing a huge allocation. `at` is the count's offset.
    void check_count(std::size_t at, std::uint64_t count, std::size_t min_bytes_each,
                     const char* field) const {
        if (count * min_bytes_each > remaining()) {
            fail(at, std::string(field) + " " + std::to_string(count) + " needs at least " +
                         std::to_string(count * min_bytes_each) + " bytes, " +
                         std::to_string(remaining()) + " left");
        }
    }

    // A complete message must use every byte: trailing bytes mean we misread its layout.
    void expect_end() const {
        if (remaining() != 0) {
            fail(pos_, std::to_string(remaining()) + " trailing bytes after a complete message");
        }
    }

    [[noreturn]] void fail(std::size_t at, const std::string& what) const {
        throw DecodeError(message_type_, at, what);
    }

  private:
    std::span<const std::byte> take(std::size_t n, const char* field) {
        if (n > remaining()) {
            fail(pos_, std::string("truncated ") + field + ": needs " + std::to_string(n) +
                           " bytes, " + std::to_string(remaining()) + " left");
        }
        std::span<const std::byte> out = bytes_.subspan(pos_, n);
        pos_ += n;
        return out;
    }

    static std::uint64_t read_big_endian(std::span<const std::byte> in) {
        std::uint64_t value = 0;
        for (std::byte b : in) {
            value = (value << 8) | static_cast<std::uint8_t>(b);
        }
        return value;
    }

    static std::string_view as_chars(std::span<const std::byte> in) {
        return {reinterpret_cast<const char*>(in.data()), in.size()};
    }

    std::span<const std::byte> bytes_;
    char message_type_;
    std::size_t pos_;
};

}  // namespace pgcs::pgoutput
