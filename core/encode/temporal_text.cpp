// Dates, times and intervals: PostgreSQL's DateStyle=ISO / IntervalStyle=iso_8601 text -> the
// contract's ISO 8601 strings, parsed in place and printed into a stack buffer.
#include "core/encode/temporal_text.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "core/encode/civil_date.hpp"
#include "core/encode/text_scan.hpp"
#include "core/encode/value_error.hpp"

namespace pgcs::encode::detail {
namespace {

// DateStyle=ISO prints "2026-11-23", "13:45:00.5", "2026-11-23 13:45:00.5", zone offsets as
// "+02", "+05:30" or "+05:30:15", and " BC" at the very end for years before 1 AD.

using Civil = CivilDate;  // astronomical year once take_era ran

struct Clock {
    unsigned hour = 0;
    unsigned minute = 0;
    unsigned second = 0;
    std::string_view fraction;  // the digits after the point; empty when none were printed
};

struct Offset {
    bool negative = false;
    unsigned hours = 0;
    unsigned minutes = 0;
    unsigned seconds = 0;
    std::int64_t east_seconds() const {
        const std::int64_t s = hours * 3600 + minutes * 60 + seconds;
        return negative ? -s : s;
    }
};

// Exactly two digits at pos, at most `max`.
bool take_two(std::string_view s, std::size_t& pos, unsigned max, unsigned& value) {
    if (s.size() - pos < 2 || !is_digit(s[pos]) || !is_digit(s[pos + 1])) {
        return false;
    }
    value = static_cast<unsigned>(s[pos] - '0') * 10 + static_cast<unsigned>(s[pos + 1] - '0');
    pos += 2;
    return value <= max;
}

// "YYYY-MM-DD", with 4 to 7 year digits (PostgreSQL dates reach 5874897 AD).
bool take_date(std::string_view s, std::size_t& pos, Civil& date) {
    const std::size_t start = pos;
    date.year = 0;
    while (pos < s.size() && is_digit(s[pos]) && pos - start < 7) {
        date.year = date.year * 10 + (s[pos++] - '0');
    }
    return pos - start >= 4 && take_char(s, pos, '-') && take_two(s, pos, 12, date.month) &&
           take_char(s, pos, '-') && take_two(s, pos, 31, date.day) && date.month >= 1 &&
           date.day >= 1;
}

// "HH:MM:SS" and an optional fraction of 1 to 6 digits.
bool take_clock(std::string_view s, std::size_t& pos, unsigned max_hour, Clock& clock) {
    if (!take_two(s, pos, max_hour, clock.hour) || !take_char(s, pos, ':') ||
        !take_two(s, pos, 59, clock.minute) || !take_char(s, pos, ':') ||
        !take_two(s, pos, 59, clock.second)) {
        return false;
    }
    clock.fraction = {};
    if (take_char(s, pos, '.')) {
        const std::size_t start = pos;
        if (!take_digits(s, pos) || pos - start > 6) {
            return false;
        }
        clock.fraction = s.substr(start, pos - start);
    }
    return true;
}

// "+HH", "+HH:MM" or "+HH:MM:SS" (or '-').
bool take_offset(std::string_view s, std::size_t& pos, Offset& offset) {
    if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-')) {
        return false;
    }
    offset = Offset{};
    offset.negative = s[pos++] == '-';
    if (!take_two(s, pos, 99, offset.hours)) {
        return false;
    }
    if (take_char(s, pos, ':')) {
        if (!take_two(s, pos, 59, offset.minutes)) {
            return false;
        }
        if (take_char(s, pos, ':') && !take_two(s, pos, 59, offset.seconds)) {
            return false;
        }
    }
    return true;
}

// An optional " BC" closing the text: the year becomes ISO 8601's astronomical year.
bool take_era(std::string_view s, std::size_t& pos, Civil& date) {
    if (s.substr(pos) != " BC") {
        return true;
    }
    pos += 3;
    date.year = 1 - date.year;
    return date.year <= 0;  // there is no year 0 BC
}

char* put_two(char* p, unsigned v) {
    *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    return p;
}

// ISO 8601 date: at least four year digits, '-' before an astronomical year below 0.
char* put_date(char* p, const Civil& date) {
    std::int64_t year = date.year;
    if (year < 0) {
        *p++ = '-';
        year = -year;
    }
    std::array<char, 20> digits;
    std::size_t n = 0;
    do {
        digits[n++] = static_cast<char>('0' + year % 10);
        year /= 10;
    } while (year != 0);
    for (std::size_t i = n; i < 4; ++i) {
        *p++ = '0';
    }
    while (n > 0) {
        *p++ = digits[--n];
    }
    *p++ = '-';
    p = put_two(p, date.month);
    *p++ = '-';
    return put_two(p, date.day);
}

// "HH:MM:SS", then the fraction: as printed (min_fraction 0) or padded to min_fraction digits.
char* put_clock(char* p, const Clock& clock, std::size_t min_fraction) {
    p = put_two(p, clock.hour);
    *p++ = ':';
    p = put_two(p, clock.minute);
    *p++ = ':';
    p = put_two(p, clock.second);
    if (clock.fraction.empty() && min_fraction == 0) {
        return p;
    }
    *p++ = '.';
    p = std::copy(clock.fraction.begin(), clock.fraction.end(), p);
    for (std::size_t i = clock.fraction.size(); i < min_fraction; ++i) {
        *p++ = '0';
    }
    return p;
}

// Room for a 7-digit year with sign, "-MM-DDTHH:MM:SS.ffffff" and an offset.
using DateTimeBuffer = std::array<char, 48>;

void write_buffer(JsonWriter& out, const DateTimeBuffer& buffer, const char* end) {
    out.String(buffer.data(), static_cast<rapidjson::SizeType>(end - buffer.data()));
}

bool is_infinity(std::string_view s) {
    return s == "infinity" || s == "-infinity";
}

// IntervalStyle=iso_8601: "P1Y2M3DT4H5M6.5S", "PT0S", "P-1Y-2M3DT-4H".
bool is_iso_interval(std::string_view s) {
    if (s.size() < 3 || s[0] != 'P') {
        return false;
    }
    for (char c : s.substr(1)) {
        if (!is_digit(c) && std::string_view("-.YMWDTHS").find(c) == std::string_view::npos) {
            return false;
        }
    }
    return std::string_view("YMWDHS").find(s.back()) != std::string_view::npos;
}

}  // namespace

void write_date(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text) {
    Civil date;
    std::size_t pos = 0;
    if (is_infinity(text)) {
        out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
        return;
    }
    if (!take_date(text, pos, date) || !take_era(text, pos, date) || pos != text.size()) {
        fail(type, text, "expected YYYY-MM-DD (DateStyle=ISO)");
    }
    DateTimeBuffer buffer;
    write_buffer(out, buffer, put_date(buffer.data(), date));
}

void write_time(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text) {
    Clock clock;
    std::size_t pos = 0;
    if (!take_clock(text, pos, 24, clock) || pos != text.size()) {
        fail(type, text, "expected HH:MM:SS[.ffffff]");
    }
    out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// "13:45:00.5+02" -> "13:45:00.5+02:00": the offset always as ±HH:MM, seconds when not zero.
void write_timetz(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text) {
    Clock clock;
    Offset offset;
    std::size_t pos = 0;
    if (!take_clock(text, pos, 24, clock) || !take_offset(text, pos, offset) ||
        pos != text.size()) {
        fail(type, text, "expected HH:MM:SS[.ffffff]+HH[:MM[:SS]]");
    }
    DateTimeBuffer buffer;
    char* p = put_clock(buffer.data(), clock, 0);
    *p++ = offset.negative ? '-' : '+';
    p = put_two(p, offset.hours);
    *p++ = ':';
    p = put_two(p, offset.minutes);
    if (offset.seconds != 0) {
        *p++ = ':';
        p = put_two(p, offset.seconds);
    }
    write_buffer(out, buffer, p);
}

// "2026-11-23 13:45:00.5" -> "2026-11-23T13:45:00.5" (fraction as printed).
void write_timestamp(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text) {
    Civil date;
    Clock clock;
    std::size_t pos = 0;
    if (is_infinity(text)) {
        out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
        return;
    }
    if (!take_date(text, pos, date) || !take_char(text, pos, ' ') ||
        !take_clock(text, pos, 23, clock) || !take_era(text, pos, date) || pos != text.size()) {
        fail(type, text, "expected YYYY-MM-DD HH:MM:SS[.ffffff] (DateStyle=ISO)");
    }
    DateTimeBuffer buffer;
    char* p = put_date(buffer.data(), date);
    *p++ = 'T';
    write_buffer(out, buffer, put_clock(p, clock, 0));
}

// "2026-11-23 11:45:00.1234+00" -> "2026-11-23T11:45:00.123400Z": UTC and six fraction digits
// always, like commit_ts. TimeZone=UTC makes the offset +00; any other is converted.
void write_timestamptz(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text) {
    Civil date;
    Clock clock;
    Offset offset;
    std::size_t pos = 0;
    if (is_infinity(text)) {
        out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
        return;
    }
    if (!take_date(text, pos, date) || !take_char(text, pos, ' ') ||
        !take_clock(text, pos, 23, clock) || !take_offset(text, pos, offset) ||
        !take_era(text, pos, date) || pos != text.size()) {
        fail(type, text, "expected YYYY-MM-DD HH:MM:SS[.ffffff]+HH (DateStyle=ISO)");
    }
    if (offset.east_seconds() != 0) {
        const std::int64_t local =
            days_from_civil(date) * 86400 + clock.hour * 3600 + clock.minute * 60 + clock.second;
        const std::int64_t utc = local - offset.east_seconds();
        const std::int64_t days = (utc >= 0 ? utc : utc - 86399) / 86400;
        const auto second_of_day = static_cast<unsigned>(utc - days * 86400);
        date = civil_from_days(days);
        clock.hour = second_of_day / 3600;
        clock.minute = second_of_day / 60 % 60;
        clock.second = second_of_day % 60;
    }
    DateTimeBuffer buffer;
    char* p = put_date(buffer.data(), date);
    *p++ = 'T';
    p = put_clock(p, clock, 6);
    *p++ = 'Z';
    write_buffer(out, buffer, p);
}

void write_interval(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text) {
    if (!is_iso_interval(text)) {
        fail(type, text, "expected an ISO 8601 duration (IntervalStyle=iso_8601)");
    }
    out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

}  // namespace pgcs::encode::detail
