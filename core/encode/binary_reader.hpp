// Internal to the binary decoders (binary_text.cpp): reading a binary (send) value, and the
// number and date/time layouts (binary_scalars.cpp).
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "core/changeset/type_registry.hpp"
#include "core/encode/value_error.hpp"

namespace pgcs::encode::binary {

using changeset::TypeInfo;

constexpr std::int64_t kUsecPerSec = 1000000;
constexpr std::int64_t kUsecPerDay = 86400 * kUsecPerSec;

// Reads big-endian integers from a value, failing with the type's name when it runs out.
class Reader {
  public:
    Reader(const TypeInfo& type, std::span<const std::byte> b) : type_(type), b_(b) {}

    std::uint64_t u(std::size_t n) {
        need(n);
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v = (v << 8) | std::to_integer<std::uint64_t>(b_[pos_ + i]);
        }
        pos_ += n;
        return v;
    }
    std::int16_t i16() { return static_cast<std::int16_t>(u(2)); }
    std::int32_t i32() { return static_cast<std::int32_t>(u(4)); }
    std::int64_t i64() { return static_cast<std::int64_t>(u(8)); }
    std::span<const std::byte> take(std::size_t n) {
        need(n);
        auto s = b_.subspan(pos_, n);
        pos_ += n;
        return s;
    }
    std::size_t left() const { return b_.size() - pos_; }
    void expect_end() {
        if (pos_ != b_.size()) {
            bad("trailing bytes in the binary value");
        }
    }
    [[noreturn]] void bad(const char* why) const { detail::fail(type_, "(binary)", why); }

  private:
    void need(std::size_t n) const {
        if (b_.size() - pos_ < n) {
            bad("the binary value is too short");
        }
    }
    const TypeInfo& type_;
    std::span<const std::byte> b_;
    std::size_t pos_ = 0;
};

inline void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

inline void append_padded(std::string& out, std::int64_t v, int width) {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(v));
    out.append(buf, static_cast<std::size_t>(n));
}

// Ryu-style shortest digits as float4out/float8out print them (extra_float_digits > 0): fixed
// notation for decimal exponents in [-4, max_fixed).
void append_float(std::string& out, float value, int max_fixed);
void append_float(std::string& out, double value, int max_fixed);
void append_numeric(Reader& r, std::string& out);
// YYYY-MM-DD for days since 2000-01-01; returns true for a BC date.
bool append_date(std::string& out, std::int64_t pg_days);
void append_time_of_day(std::string& out, std::int64_t usec);
// The zone in seconds west of Greenwich, as +HH[:MM[:SS]] (EncodeTimezone).
void append_zone(std::string& out, std::int32_t tz_west);
void append_timestamp(Reader& r, std::string& out, bool with_zone);
void append_interval(Reader& r, std::string& out);

}  // namespace pgcs::encode::binary
