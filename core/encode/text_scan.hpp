// Byte-level scanning helpers shared by the value parsers: each takes the text and a position
// it advances on success. Inline: they run on every byte of every column value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pgcs::encode::detail {

inline bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Whitespace as array_in and hstore_in skip it (array_isspace).
inline bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

inline bool equals_ignore_case(std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const char c = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
        if (c != lower[i]) {
            return false;
        }
    }
    return true;
}

// Consumes [0-9]+ from s at pos; false when there is none.
inline bool take_digits(std::string_view s, std::size_t& pos) {
    const std::size_t start = pos;
    while (pos < s.size() && is_digit(s[pos])) {
        ++pos;
    }
    return pos > start;
}

inline bool take_char(std::string_view s, std::size_t& pos, char c) {
    if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

// A hex digit's value, -1 for any other byte.
inline constexpr std::array<std::int8_t, 256> kHexValue = [] {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) {
        v = -1;
    }
    for (int i = 0; i < 10; ++i) {
        t['0' + i] = static_cast<std::int8_t>(i);
    }
    for (int i = 0; i < 6; ++i) {
        t['a' + i] = t['A' + i] = static_cast<std::int8_t>(10 + i);
    }
    return t;
}();

}  // namespace pgcs::encode::detail
