// Parsing of PostgreSQL's text forms for the Debezium values; see debezium_temporal.hpp.
#include "core/encode/debezium_temporal.hpp"

#include "core/encode/debezium_values.hpp"

#include <cstdio>
#include <vector>

#include "core/encode/civil_date.hpp"
#include "core/encode/text_scan.hpp"
#include "core/encode/value_writer.hpp"

namespace pgcs::encode::debezium {
namespace pgtext {

using encode::detail::is_digit;

[[noreturn]] void bad(std::string_view what, std::string_view text) {
    throw ValueFormatError("not a " + std::string(what) + " value: '" +
                           std::string(text.substr(0, 64)) + "'");
}

namespace {

std::int64_t number(std::string_view s, std::size_t& pos, std::string_view what,
                    std::string_view text) {
    const std::size_t start = pos;
    std::int64_t v = 0;
    while (pos < s.size() && is_digit(s[pos])) {
        v = v * 10 + (s[pos++] - '0');
    }
    if (pos == start) {
        bad(what, text);
    }
    return v;
}

}  // namespace

void expect(std::string_view s, std::size_t& pos, char c, std::string_view what) {
    if (!encode::detail::take_char(s, pos, c)) {
        bad(what, s);
    }
}

// "HH:MM:SS[.ffffff]" at pos -> microseconds of the day.
std::int64_t time_of_day(std::string_view s, std::size_t& pos, std::string_view what) {
    const std::int64_t h = number(s, pos, what, s);
    expect(s, pos, ':', what);
    const std::int64_t m = number(s, pos, what, s);
    expect(s, pos, ':', what);
    const std::int64_t sec = number(s, pos, what, s);
    std::int64_t micros = 0;
    if (encode::detail::take_char(s, pos, '.')) {
        int digits = 0;
        while (pos < s.size() && is_digit(s[pos])) {
            if (digits < 6) {
                micros = micros * 10 + (s[pos] - '0');
            }
            ++digits;
            ++pos;
        }
        for (; digits < 6; ++digits) {
            micros *= 10;
        }
    }
    return ((h * 60 + m) * 60 + sec) * 1000000 + micros;
}

// "YYYY-MM-DD" at pos -> days since 1970-01-01 (" BC" is read by the caller).
std::int64_t date_days(std::string_view s, std::size_t& pos, bool bc, std::string_view what) {
    std::int64_t y = number(s, pos, what, s);
    expect(s, pos, '-', what);
    const auto m = static_cast<unsigned>(number(s, pos, what, s));
    expect(s, pos, '-', what);
    const auto d = static_cast<unsigned>(number(s, pos, what, s));
    if (bc) {
        y = 1 - y;
    }
    return encode::detail::days_from_civil({y, m, d});
}

bool ends_bc(std::string_view s) {
    return s.size() > 3 && s.substr(s.size() - 3) == " BC";
}

// "+HH[:MM[:SS]]" or "-..." at pos -> seconds east of UTC.
std::int64_t utc_offset(std::string_view s, std::size_t& pos, std::string_view what) {
    if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-')) {
        bad(what, s);
    }
    const bool minus = s[pos++] == '-';
    std::int64_t off = number(s, pos, what, s) * 3600;
    if (encode::detail::take_char(s, pos, ':')) {
        off += number(s, pos, what, s) * 60;
        if (encode::detail::take_char(s, pos, ':')) {
            off += number(s, pos, what, s);
        }
    }
    return minus ? -off : off;
}

// Floor division and modulo.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - (a % b < 0 ? 1 : 0);
}
std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
    return a - floor_div(a, b) * b;
}

// "HH:MM:SS" and `width` fraction digits (minimal when width < 0, none when all zero).
void put_time(std::string& out, std::int64_t micros_of_day, int width) {
    char buf[32];
    const std::int64_t secs = micros_of_day / 1000000;
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    out += buf;
    const std::int64_t micros = micros_of_day % 1000000;
    std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(micros));
    std::string fraction(buf);
    if (width < 0) {
        while (!fraction.empty() && fraction.back() == '0') {
            fraction.pop_back();
        }
    } else {
        fraction.resize(static_cast<std::size_t>(width), '0');  // 7-9: zeros after the micros
    }
    if (!fraction.empty()) {
        out += '.';
        out += fraction;
    }
}

// ISO_LOCAL_DATE: four digits at least, a sign beyond 9999 and before year 0.
void put_date(std::string& out, std::int64_t days) {
    const encode::detail::CivilDate c = encode::detail::civil_from_days(days);
    char buf[48];
    if (c.year > 9999) {
        std::snprintf(buf, sizeof buf, "+%lld-%02u-%02u", static_cast<long long>(c.year), c.month,
                      c.day);
    } else {
        std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.year), c.month,
                      c.day);
    }
    out += buf;
}

// The interval's ISO 8601 text (IntervalStyle=iso_8601) -> MicroDuration.durationMicros().
std::int64_t duration_micros(std::string_view s) {
    std::size_t pos = 0;
    expect(s, pos, 'P', "interval");
    bool time = false;
    double years = 0, months = 0, days = 0, hours = 0, minutes = 0, seconds = 0;
    while (pos < s.size()) {
        if (s[pos] == 'T') {
            time = true;
            ++pos;
            continue;
        }
        const bool minus = encode::detail::take_char(s, pos, '-');
        const std::int64_t whole = number(s, pos, "interval", s);
        std::int64_t micros = 0;
        if (encode::detail::take_char(s, pos, '.')) {
            int digits = 0;
            while (pos < s.size() && is_digit(s[pos])) {
                if (digits++ < 6) {
                    micros = micros * 10 + (s[pos] - '0');
                }
                ++pos;
            }
            for (; digits < 6; ++digits) {
                micros *= 10;
            }
        }
        if (pos >= s.size()) {
            bad("interval", s);
        }
        const char unit = s[pos++];
        // PGInterval keeps seconds as whole seconds plus microseconds.
        const double v = static_cast<double>(whole) + static_cast<double>(micros) / 1e6;
        const double signed_v = minus ? -v : v;
        if (!time && unit == 'Y') {
            years = signed_v;
        } else if (!time && unit == 'M') {
            months = signed_v;
        } else if (!time && unit == 'D') {
            days = signed_v;
        } else if (time && unit == 'H') {
            hours = signed_v;
        } else if (time && unit == 'M') {
            minutes = signed_v;
        } else if (time && unit == 'S') {
            seconds = signed_v;
        } else {
            bad("interval", s);
        }
    }
    constexpr double kDaysPerMonthAvg = 365.25 / 12.0;
    const auto y = static_cast<int>(years);
    const auto mo = static_cast<int>(months);
    const double number_of_days = ((y * 12) + mo) * kDaysPerMonthAvg + static_cast<int>(days);
    const double number_of_seconds =
        (((number_of_days * 24 + static_cast<int>(hours)) * 60) + static_cast<int>(minutes)) * 60 +
        seconds;
    return static_cast<std::int64_t>(number_of_seconds * 1e6 + 0);
}

}  // namespace pgtext

std::string unscaled_bytes(std::string_view digits, bool negative) {
    std::vector<std::uint8_t> mag;  // little-endian magnitude
    for (char c : digits) {
        unsigned carry = static_cast<unsigned>(c - '0');
        for (auto& b : mag) {
            const unsigned v = b * 10U + carry;
            b = static_cast<std::uint8_t>(v & 0xff);
            carry = v >> 8;
        }
        while (carry != 0) {
            mag.push_back(static_cast<std::uint8_t>(carry & 0xff));
            carry >>= 8;
        }
    }
    while (!mag.empty() && mag.back() == 0) {
        mag.pop_back();
    }
    mag.push_back(0);  // room for the sign bit
    if (negative) {
        unsigned carry = 1;
        for (auto& b : mag) {
            const unsigned v = static_cast<std::uint8_t>(~b) + carry;
            b = static_cast<std::uint8_t>(v & 0xff);
            carry = v >> 8;
        }
    }
    // Minimal: drop a leading byte that only repeats the sign of the next one.
    const std::uint8_t sign = negative ? 0xff : 0x00;
    while (mag.size() > 1 && mag.back() == sign &&
           ((mag[mag.size() - 2] & 0x80) != 0) == negative) {
        mag.pop_back();
    }
    if (negative && mag.size() == 1 && mag[0] == 0) {
        mag[0] = 0;  // -0 is 0
    }
    return std::string(mag.rbegin(), mag.rend());
}

}  // namespace pgcs::encode::debezium
