// A WAL position (PostgreSQL's XLogRecPtr): the one type every stage uses for it, and its text
// form as PostgreSQL prints a pg_lsn ("16/B374D848": two upper-case hex halves, no leading
// zeros). Header-only: the acknowledgement tracker uses it and nothing else of the project.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgcs {

using Lsn = std::uint64_t;

// The text form of an LSN without allocating (the encoder writes one per event).
struct LsnText {
    std::array<char, 17> buf{};  // "FFFFFFFF/FFFFFFFF"
    std::size_t len = 0;
    std::string_view view() const { return {buf.data(), len}; }
};

namespace detail {

inline char* put_lsn_half(char* p, std::uint32_t v) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    char tmp[8];
    int n = 0;
    do {
        tmp[n++] = kDigits[v & 0xFu];
        v >>= 4;
    } while (v != 0);
    while (n > 0) {
        *p++ = tmp[--n];
    }
    return p;
}

inline bool parse_lsn_half(std::string_view s, std::uint32_t& out) {
    if (s.empty() || s.size() > 8) {
        return false;
    }
    out = 0;
    for (const char c : s) {
        std::uint32_t d = 0;
        if (c >= '0' && c <= '9') {
            d = static_cast<std::uint32_t>(c - '0');
        } else if (c >= 'A' && c <= 'F') {
            d = static_cast<std::uint32_t>(c - 'A' + 10);
        } else if (c >= 'a' && c <= 'f') {
            d = static_cast<std::uint32_t>(c - 'a' + 10);
        } else {
            return false;
        }
        out = (out << 4) | d;
    }
    return true;
}

}  // namespace detail

inline LsnText lsn_text(Lsn lsn) {
    LsnText t;
    char* p = detail::put_lsn_half(t.buf.data(), static_cast<std::uint32_t>(lsn >> 32));
    *p++ = '/';
    p = detail::put_lsn_half(p, static_cast<std::uint32_t>(lsn & 0xFFFFFFFFu));
    t.len = static_cast<std::size_t>(p - t.buf.data());
    return t;
}

inline std::string format_lsn(Lsn lsn) {
    return std::string(lsn_text(lsn).view());
}

// "X/X" as PostgreSQL prints it (either case); nullopt for anything else.
inline std::optional<Lsn> parse_lsn(std::string_view text) {
    const auto slash = text.find('/');
    std::uint32_t hi = 0;
    std::uint32_t lo = 0;
    if (slash == std::string_view::npos || !detail::parse_lsn_half(text.substr(0, slash), hi) ||
        !detail::parse_lsn_half(text.substr(slash + 1), lo)) {
        return std::nullopt;
    }
    return (static_cast<Lsn>(hi) << 32) | lo;
}

}  // namespace pgcs
