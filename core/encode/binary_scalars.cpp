// Numbers and dates/times in their binary (send) form -> PostgreSQL's text output; see
// binary_text.cpp for the formats' sources and binary_reader.hpp.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "core/encode/binary_reader.hpp"
#include "core/encode/civil_date.hpp"

namespace pgcs::encode::binary {

// Ryu-style shortest digits formatted as PostgreSQL's float4out/float8out do with
// extra_float_digits > 0: fixed notation for decimal exponents in [-4, max_fixed), else
// d.ddde[+-]XX.
template <typename F>
static void append_float_impl(std::string& out, F value, int max_fixed) {
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "Infinity" : "-Infinity";
        return;
    }
    if (value == 0) {
        out += std::signbit(value) ? "-0" : "0";
        return;
    }
    char sci[64];
    auto r = std::to_chars(sci, sci + sizeof sci, value, std::chars_format::scientific);
    std::string_view s(sci, static_cast<std::size_t>(r.ptr - sci));
    const bool negative = s[0] == '-';
    if (negative) {
        s.remove_prefix(1);
    }
    const auto e = s.find('e');
    std::string digits;
    for (char c : s.substr(0, e)) {
        if (c != '.') {
            digits += c;
        }
    }
    int exp = 0;
    std::from_chars(s.data() + e + 1 + (s[e + 1] == '+' ? 1 : 0), s.data() + s.size(), exp);
    if (negative) {
        out += '-';
    }
    const int n = static_cast<int>(digits.size());
    if (exp >= -4 && exp < max_fixed) {
        if (exp < 0) {
            out += "0.";
            out.append(static_cast<std::size_t>(-exp - 1), '0');
            out += digits;
        } else if (n <= exp + 1) {
            out += digits;
            out.append(static_cast<std::size_t>(exp + 1 - n), '0');
        } else {
            const auto integer_digits = static_cast<std::size_t>(exp) + 1;
            out.append(digits, 0, integer_digits);
            out += '.';
            out.append(digits, integer_digits);
        }
        return;
    }
    out += digits[0];
    if (n > 1) {
        out += '.';
        out.append(digits, 1);
    }
    out += 'e';
    out += exp < 0 ? '-' : '+';
    append_padded(out, exp < 0 ? -exp : exp, 2);
}

void append_numeric(Reader& r, std::string& out) {
    const int ndigits = r.i16();
    const int weight = r.i16();
    const auto sign = static_cast<std::uint16_t>(r.u(2));
    const int dscale = r.i16();
    if (ndigits < 0 || dscale < 0 || r.left() != static_cast<std::size_t>(ndigits) * 2) {
        r.bad("bad numeric header");
    }
    std::vector<int> digits(static_cast<std::size_t>(ndigits));
    for (auto& d : digits) {
        d = r.i16();
        if (d < 0 || d > 9999) {
            r.bad("numeric digit out of range");
        }
    }
    switch (sign) {
        case 0xC000:
            out += "NaN";
            return;
        case 0xD000:
            out += "Infinity";
            return;
        case 0xF000:
            out += "-Infinity";
            return;
        case 0x0000:
            break;
        case 0x4000:
            out += '-';
            break;
        default:
            r.bad("bad numeric sign");
    }
    auto digit = [&](int i) {
        return i >= 0 && i < ndigits ? digits[static_cast<std::size_t>(i)] : 0;
    };
    int d = 0;
    if (weight < 0) {
        d = weight + 1;
        out += '0';
    } else {
        for (d = 0; d <= weight; ++d) {
            if (d == 0) {
                append_int(out, digit(d));
            } else {
                append_padded(out, digit(d), 4);
            }
        }
    }
    if (dscale > 0) {
        out += '.';
        std::string frac;
        for (int i = 0; i < dscale; i += 4, ++d) {
            append_padded(frac, digit(d), 4);
        }
        out.append(frac, 0, static_cast<std::size_t>(dscale));
    }
}

// Appends YYYY-MM-DD for days since 2000-01-01; returns true for a BC date.
bool append_date(std::string& out, std::int64_t pg_days) {
    const detail::CivilDate c = detail::civil_from_days(pg_days + detail::kPgEpochDays);
    const std::int64_t y = c.year;
    const unsigned m = c.month;
    const unsigned d = c.day;
    const bool bc = y <= 0;
    append_padded(out, bc ? 1 - y : y, 4);
    out += '-';
    append_padded(out, m, 2);
    out += '-';
    append_padded(out, d, 2);
    return bc;
}

// Seconds with a fraction, trailing zeros dropped (AppendSeconds without fill).
static void append_seconds(std::string& out, std::int64_t sec, std::int64_t fsec, bool pad) {
    if (pad) {
        append_padded(out, sec, 2);
    } else {
        append_int(out, sec);
    }
    if (fsec != 0) {
        std::string f;
        append_padded(f, fsec, 6);
        while (!f.empty() && f.back() == '0') {
            f.pop_back();
        }
        out += '.';
        out += f;
    }
}

void append_time_of_day(std::string& out, std::int64_t usec) {
    append_padded(out, usec / 3600000000LL, 2);
    out += ':';
    append_padded(out, usec / 60000000LL % 60, 2);
    out += ':';
    append_seconds(out, usec / kUsecPerSec % 60, usec % kUsecPerSec, true);
}

// The zone in seconds west of Greenwich, as +HH[:MM[:SS]] (EncodeTimezone).
void append_zone(std::string& out, std::int32_t tz_west) {
    const std::int64_t east = -static_cast<std::int64_t>(tz_west);
    out += east >= 0 ? '+' : '-';
    const std::int64_t a = east >= 0 ? east : -east;
    append_padded(out, a / 3600, 2);
    if (a % 60 != 0) {
        out += ':';
        append_padded(out, a / 60 % 60, 2);
        out += ':';
        append_padded(out, a % 60, 2);
    } else if (a / 60 % 60 != 0) {
        out += ':';
        append_padded(out, a / 60 % 60, 2);
    }
}

void append_timestamp(Reader& r, std::string& out, bool with_zone) {
    const std::int64_t t = r.i64();
    r.expect_end();
    if (t == std::numeric_limits<std::int64_t>::max()) {
        out += "infinity";
        return;
    }
    if (t == std::numeric_limits<std::int64_t>::min()) {
        out += "-infinity";
        return;
    }
    std::int64_t days = t / kUsecPerDay;
    std::int64_t rem = t % kUsecPerDay;
    if (rem < 0) {
        rem += kUsecPerDay;
        --days;
    }
    const bool bc = append_date(out, days);
    out += ' ';
    append_time_of_day(out, rem);
    if (with_zone) {
        out += "+00";  // the session's TimeZone is UTC
    }
    if (bc) {
        out += " BC";
    }
}

static void append_iso_part(std::string& out, std::int64_t v, char unit) {
    if (v != 0) {
        append_int(out, v);
        out += unit;
    }
}

void append_interval(Reader& r, std::string& out) {
    std::int64_t time = r.i64();
    const std::int32_t days = r.i32();
    const std::int32_t months = r.i32();
    r.expect_end();
    const std::int64_t year = months / 12;
    const std::int64_t mon = months % 12;
    const std::int64_t hour = time / 3600000000LL;
    time -= hour * 3600000000LL;
    const std::int64_t min = time / 60000000LL;
    time -= min * 60000000LL;
    const std::int64_t sec = time / kUsecPerSec;
    const std::int64_t fsec = time - sec * kUsecPerSec;
    if (year == 0 && mon == 0 && days == 0 && hour == 0 && min == 0 && sec == 0 && fsec == 0) {
        out += "PT0S";
        return;
    }
    out += 'P';
    append_iso_part(out, year, 'Y');
    append_iso_part(out, mon, 'M');
    append_iso_part(out, days, 'D');
    if (hour != 0 || min != 0 || sec != 0 || fsec != 0) {
        out += 'T';
    }
    append_iso_part(out, hour, 'H');
    append_iso_part(out, min, 'M');
    if (sec != 0 || fsec != 0) {
        if (sec < 0 || fsec < 0) {
            out += '-';
        }
        append_seconds(out, sec < 0 ? -sec : sec, fsec < 0 ? -fsec : fsec, false);
        out += 'S';
    }
}

void append_float(std::string& out, float value, int max_fixed) {
    append_float_impl(out, value, max_fixed);
}

void append_float(std::string& out, double value, int max_fixed) {
    append_float_impl(out, value, max_fixed);
}

}  // namespace pgcs::encode::binary
