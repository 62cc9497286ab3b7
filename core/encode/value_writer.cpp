// Column values: PostgreSQL's text output -> the JSON form of the contract's type table. Runs
// per column per row, so it parses string_views in place and writes through rapidjson; only
// large bytea values and escaped array/hstore elements need a heap buffer.
#include "core/encode/value_writer.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace pgcs::encode {
namespace {

using changeset::TypeInfo;
using changeset::TypeRegistry;
using changeset::ValueKind;

constexpr std::size_t kQuotedPrefix = 40;  // how much of a bad value an error message quotes

// `"prefix…"`, cut on a UTF-8 boundary, control bytes shown as '?': error messages go to logs.
std::string quote(std::string_view text) {
    std::size_t n = std::min(text.size(), kQuotedPrefix);
    while (n > 0 && n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) {
        --n;
    }
    std::string out = "\"";
    for (char c : text.substr(0, n)) {
        out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    }
    out += n < text.size() ? "...\"" : "\"";
    return out;
}

[[noreturn, gnu::cold]] void fail(const TypeInfo& type, std::string_view text,
                                  std::string_view why) {
    throw ValueFormatError("invalid " + type.name + " value " + quote(text) + ": " +
                           std::string(why));
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Whitespace as array_in and hstore_in skip it (array_isspace).
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool equals_ignore_case(std::string_view a, std::string_view lower) {
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

// RFC 3629 UTF-8 (no overlongs, surrogates or code points past U+10FFFF), with an 8-byte ASCII
// fast path. rapidjson's Writer copies bytes as they are, so this is what keeps output JSON.
bool is_valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* const end = p + s.size();
    while (p < end) {
        if (end - p >= 8) {
            std::uint64_t word;
            std::memcpy(&word, p, sizeof word);
            if ((word & 0x8080808080808080ULL) == 0) {
                p += 8;
                continue;
            }
        }
        const unsigned c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int more = 0;
        unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return false;
        }
        if (end - p <= more || p[1] < lo || p[1] > hi) {
            return false;
        }
        for (int i = 2; i <= more; ++i) {
            if ((p[i] & 0xC0) != 0x80) {
                return false;
            }
        }
        p += more + 1;
    }
    return true;
}

void write_string(JsonWriter& out, const TypeInfo& type, std::string_view text) {
    if (!is_valid_utf8(text)) {
        fail(type, text, "not valid UTF-8 (the connection's client_encoding must be UTF8)");
    }
    out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// ---- numbers -----------------------------------------------------------------------------

// -?(0|[1-9][0-9]*): what int2/int4/int8/oid print; at most 20 digits.
bool is_integer(std::string_view s) {
    const std::size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
    const std::size_t digits = s.size() - start;
    if (digits == 0 || digits > 20 || (s[start] == '0' && digits > 1)) {
        return false;
    }
    for (std::size_t i = start; i < s.size(); ++i) {
        if (!is_digit(s[i])) {
            return false;
        }
    }
    return true;
}

// Consumes [0-9]+ from s at pos; false when there is none.
bool take_digits(std::string_view s, std::size_t& pos) {
    const std::size_t start = pos;
    while (pos < s.size() && is_digit(s[pos])) {
        ++pos;
    }
    return pos > start;
}

bool take_char(std::string_view s, std::size_t& pos, char c) {
    if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

// The JSON number grammar (RFC 8259 section 6) at pos, any magnitude.
bool take_json_number(std::string_view s, std::size_t& pos) {
    take_char(s, pos, '-');
    const std::size_t int_start = pos;
    if (!take_digits(s, pos) || (s[int_start] == '0' && pos - int_start > 1)) {
        return false;
    }
    if (take_char(s, pos, '.') && !take_digits(s, pos)) {
        return false;
    }
    if (take_char(s, pos, 'e') || take_char(s, pos, 'E')) {
        if (!take_char(s, pos, '+')) {
            take_char(s, pos, '-');
        }
        return take_digits(s, pos);
    }
    return true;
}

// float8out's "1.5e+30", "1e-05" and "-0" are JSON numbers as they are.
bool is_json_number(std::string_view s) {
    std::size_t pos = 0;
    return take_json_number(s, pos) && pos == s.size();
}

bool is_special_float(std::string_view s) {
    return s == "NaN" || s == "Infinity" || s == "-Infinity";
}

// numeric_out never uses an exponent: -?[0-9]+(\.[0-9]+)?
bool is_numeric(std::string_view s) {
    std::size_t pos = !s.empty() && s[0] == '-' ? 1 : 0;
    if (!take_digits(s, pos)) {
        return false;
    }
    if (pos < s.size() && s[pos] == '.' && !take_digits(s, ++pos)) {
        return false;
    }
    return pos == s.size();
}

// ---- bytea -------------------------------------------------------------------------------

constexpr std::array<std::int8_t, 256> kHexValue = [] {
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

// "\x0102ff" (bytea_output=hex) -> "AQL/" as a JSON string, base64-encoded chunk by chunk with
// OpenSSL straight into the output text.
void write_bytea(JsonWriter& out, const TypeInfo& type, std::string_view text) {
    if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
        fail(type, text, "expected \\x and pairs of hex digits (bytea_output=hex)");
    }
    const std::string_view hex = text.substr(2);
    const std::size_t bytes = hex.size() / 2;
    const std::size_t encoded = (bytes + 2) / 3 * 4;
    std::array<char, 512> small;
    std::string large;
    char* json = small.data();
    if (encoded + 2 > small.size()) {
        large.resize(encoded + 2);
        json = large.data();
    }
    json[0] = '"';
    std::size_t written = 1;
    std::array<unsigned char, 3 * 256> chunk;  // a multiple of 3: no padding between chunks
    for (std::size_t done = 0; done < bytes;) {
        const std::size_t n = std::min(chunk.size(), bytes - done);
        for (std::size_t i = 0; i < n; ++i) {
            const int high = kHexValue[static_cast<unsigned char>(hex[2 * (done + i)])];
            const int low = kHexValue[static_cast<unsigned char>(hex[2 * (done + i) + 1])];
            if (high < 0 || low < 0) {
                fail(type, text, "not a hex digit");
            }
            chunk[i] = static_cast<unsigned char>(high << 4 | low);
        }
        // EVP_EncodeBlock writes a trailing NUL too: it lands where the next chunk or the
        // closing quote goes.
        written += static_cast<std::size_t>(EVP_EncodeBlock(
            reinterpret_cast<unsigned char*>(json + written), chunk.data(), static_cast<int>(n)));
        done += n;
    }
    json[written++] = '"';
    out.RawValue(json, written, rapidjson::kStringType);
}

// ---- json --------------------------------------------------------------------------------

bool is_json_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// A JSON string at pos (its opening quote): no control characters, only JSON's escapes.
bool take_json_string(std::string_view s, std::size_t& pos) {
    for (++pos; pos < s.size();) {
        const auto c = static_cast<unsigned char>(s[pos++]);
        if (c == '"') {
            return true;
        }
        if (c < 0x20) {
            return false;
        }
        if (c == '\\') {
            if (pos == s.size()) {
                return false;
            }
            const char e = s[pos++];
            if (e == 'u') {
                if (s.size() - pos < 4) {
                    return false;
                }
                for (std::size_t end = pos + 4; pos < end; ++pos) {
                    if (kHexValue[static_cast<unsigned char>(s[pos])] < 0) {
                        return false;
                    }
                }
            } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
                return false;
            }
        }
    }
    return false;
}

// RFC 8259 syntax and UTF-8, checked iteratively so that deep nesting cannot exhaust the stack.
// Numbers of any size pass: json keeps "1e400" and jsonb prints it with 401 digits, which
// rapidjson's reader refuses (it insists on a double), so it cannot do this check.
bool is_valid_json(std::string_view s) {
    if (!is_valid_utf8(s)) {
        return false;
    }
    // One bit per open container, set for an object: 1024 levels inline, deeper on the heap.
    std::array<std::uint64_t, 16> shallow{};
    std::vector<std::uint64_t> deep;
    std::size_t depth = 0;
    const auto word = [&](std::size_t i) -> std::uint64_t& {
        return i < 1024 ? shallow[i / 64] : deep[(i - 1024) / 64];
    };
    const auto open = [&](bool object) {
        if (depth >= 1024 && (depth - 1024) / 64 >= deep.size()) {
            deep.push_back(0);
        }
        const std::uint64_t bit = std::uint64_t{1} << (depth % 64);
        word(depth) = object ? (word(depth) | bit) : (word(depth) & ~bit);
        ++depth;
    };
    const auto in_object = [&] { return (word(depth - 1) >> ((depth - 1) % 64) & 1) != 0; };

    enum class Next { Value, Key, AfterValue };
    Next next = Next::Value;
    std::size_t pos = 0;
    for (;;) {
        while (pos < s.size() && is_json_space(s[pos])) {
            ++pos;
        }
        if (next == Next::AfterValue) {
            if (depth == 0) {
                return pos == s.size();
            }
            if (take_char(s, pos, ',')) {
                next = in_object() ? Next::Key : Next::Value;
            } else if (take_char(s, pos, in_object() ? '}' : ']')) {
                --depth;
            } else {
                return false;
            }
            continue;
        }
        if (pos == s.size()) {
            return false;
        }
        if (next == Next::Key) {
            if (s[pos] != '"' || !take_json_string(s, pos)) {
                return false;
            }
            while (pos < s.size() && is_json_space(s[pos])) {
                ++pos;
            }
            if (!take_char(s, pos, ':')) {
                return false;
            }
            next = Next::Value;
            continue;
        }
        next = Next::AfterValue;
        const char c = s[pos];
        if (c == '{' || c == '[') {
            ++pos;
            while (pos < s.size() && is_json_space(s[pos])) {
                ++pos;
            }
            if (!take_char(s, pos, c == '{' ? '}' : ']')) {  // else: empty, a complete value
                open(c == '{');
                next = c == '{' ? Next::Key : Next::Value;
            }
        } else if (c == '"') {
            if (!take_json_string(s, pos)) {
                return false;
            }
        } else if (c == 't' || c == 'f' || c == 'n') {
            const std::string_view literal = c == 't' ? "true" : c == 'f' ? "false" : "null";
            if (s.substr(pos, literal.size()) != literal) {
                return false;
            }
            pos += literal.size();
        } else if (!take_json_number(s, pos)) {
            return false;
        }
    }
}

void write_json(JsonWriter& out, const TypeInfo& type, std::string_view text) {
    // json keeps its input text verbatim, surrounding whitespace included.
    while (!text.empty() && is_json_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_json_space(text.back())) {
        text.remove_suffix(1);
    }
    if (text.empty() || !is_valid_json(text)) {
        fail(type, text, "not valid JSON");
    }
    rapidjson::Type kind = rapidjson::kNumberType;
    switch (text.front()) {
        case '{':
            kind = rapidjson::kObjectType;
            break;
        case '[':
            kind = rapidjson::kArrayType;
            break;
        case '"':
            kind = rapidjson::kStringType;
            break;
        case 't':
            kind = rapidjson::kTrueType;
            break;
        case 'f':
            kind = rapidjson::kFalseType;
            break;
        case 'n':
            kind = rapidjson::kNullType;
            break;
        default:
            break;
    }
    out.RawValue(text.data(), text.size(), kind);
}

// ---- dates and times ---------------------------------------------------------------------
// DateStyle=ISO prints "2026-11-23", "13:45:00.5", "2026-11-23 13:45:00.5", zone offsets as
// "+02", "+05:30" or "+05:30:15", and " BC" at the very end for years before 1 AD.

struct Civil {
    std::int64_t year = 0;  // astronomical once take_era ran: 1 BC is 0, 44 BC is -43
    unsigned month = 0;
    unsigned day = 0;
};

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

// Proleptic Gregorian day numbers, 1970-01-01 = 0 (H. Hinnant's days_from_civil and
// civil_from_days, http://howardhinnant.github.io/date_algorithms.html).
std::int64_t days_from_civil(const Civil& c) {
    const std::int64_t y = c.year - (c.month <= 2 ? 1 : 0);
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (c.month > 2 ? c.month - 3 : c.month + 9) + 2) / 5 + c.day - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    Civil c;
    c.day = doy - (153 * mp + 2) / 5 + 1;
    c.month = mp < 10 ? mp + 3 : mp - 9;
    c.year = static_cast<std::int64_t>(yoe) + era * 400 + (c.month <= 2 ? 1 : 0);
    return c;
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

void write_date(JsonWriter& out, const TypeInfo& type, std::string_view text) {
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

void write_time(JsonWriter& out, const TypeInfo& type, std::string_view text) {
    Clock clock;
    std::size_t pos = 0;
    if (!take_clock(text, pos, 24, clock) || pos != text.size()) {
        fail(type, text, "expected HH:MM:SS[.ffffff]");
    }
    out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// "13:45:00.5+02" -> "13:45:00.5+02:00": the offset always as ±HH:MM, seconds when not zero.
void write_timetz(JsonWriter& out, const TypeInfo& type, std::string_view text) {
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
void write_timestamp(JsonWriter& out, const TypeInfo& type, std::string_view text) {
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
void write_timestamptz(JsonWriter& out, const TypeInfo& type, std::string_view text) {
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

// ---- arrays and hstore -------------------------------------------------------------------

// A double-quoted token at pos (the opening quote) with \" and \\ (any \x) escapes. The value
// is a view into `text` when nothing was escaped, else into `scratch`.
bool take_quoted(std::string_view text, std::size_t& pos, std::string& scratch,
                 std::string_view& value) {
    const std::size_t start = ++pos;
    std::size_t stop = text.find_first_of("\"\\", start);
    if (stop == std::string_view::npos) {
        return false;
    }
    if (text[stop] == '"') {
        value = text.substr(start, stop - start);
        pos = stop + 1;
        return true;
    }
    scratch.assign(text.substr(start, stop - start));
    for (pos = stop; pos < text.size();) {
        char c = text[pos++];
        if (c == '"') {
            value = scratch;
            return true;
        }
        if (c == '\\') {
            if (pos == text.size()) {
                return false;
            }
            c = text[pos++];
        }
        scratch += c;
    }
    return false;
}

// An unquoted token at pos, up to a byte in `stops` (or the end); backslash escapes as
// array_in and hstore_in take them; trailing whitespace that was not escaped is dropped.
// `escaped` tells whether an escape was seen (an escaped NULL is no null).
std::string_view take_unquoted(std::string_view text, std::size_t& pos, std::string_view stops,
                               std::string& scratch, bool& escaped) {
    const std::size_t start = pos;
    std::size_t keep = 0;  // scratch bytes up to the last escaped one: never trimmed
    escaped = false;
    while (pos < text.size() && stops.find(text[pos]) == std::string_view::npos) {
        if (text[pos] == '\\' && pos + 1 < text.size()) {
            if (!escaped) {
                scratch.assign(text.substr(start, pos - start));
                escaped = true;
            }
            scratch += text[pos + 1];
            keep = scratch.size();
            pos += 2;
            continue;
        }
        if (escaped) {
            scratch += text[pos];
        }
        ++pos;
    }
    std::string_view value = escaped ? std::string_view(scratch) : text.substr(start, pos - start);
    while (value.size() > keep && is_space(value.back())) {
        value.remove_suffix(1);
    }
    return value;
}

const TypeInfo& unknown_element() {
    static const TypeInfo type{0, "unknown", ValueKind::String, 0, ','};
    return type;
}

// array_out's text: optional "[lo:hi]..." bounds and '=', then braces nested per dimension.
// An element is quoted when it is empty, holds the delimiter, a brace, a quote, a backslash or
// whitespace, or spells NULL in any case; an unquoted NULL is SQL NULL.
class ArrayText {
  public:
    ArrayText(JsonWriter& out, const TypeRegistry& registry, const TypeInfo& type,
              std::string_view text)
        : out_(out), registry_(registry), type_(type), text_(text) {
        const TypeInfo* element = registry.find(type.element_oid);
        element_ = element != nullptr ? element : &unknown_element();
    }

    void write() {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == '[') {
            // Printed when some lower bound is not 1: "[0:1][2:3]={{1,2},{3,4}}".
            while (pos_ < text_.size() && text_[pos_] != '=') {
                const char c = text_[pos_++];
                if (!is_digit(c) && c != '[' && c != ']' && c != ':' && c != '-') {
                    bad("malformed dimension bounds");
                }
            }
            if (!take_char(text_, pos_, '=')) {
                bad("malformed dimension bounds");
            }
            skip_space();
        }
        write_dimension(1);
        skip_space();
        if (pos_ != text_.size()) {
            bad("text after the closing brace");
        }
    }

  private:
    static constexpr int kMaxDimensions = 6;  // PostgreSQL's MAXDIM

    void write_dimension(int depth) {
        if (depth > kMaxDimensions) {
            bad("more than 6 dimensions");
        }
        if (!take_char(text_, pos_, '{')) {
            bad("expected '{'");
        }
        out_.StartArray();
        skip_space();
        if (take_char(text_, pos_, '}')) {
            out_.EndArray();
            return;
        }
        for (;;) {
            skip_space();
            if (pos_ < text_.size() && text_[pos_] == '{') {
                if (element_depth_ != 0 && element_depth_ <= depth) {
                    bad("elements and sub-arrays mixed");
                }
                write_dimension(depth + 1);
            } else {
                if (element_depth_ != 0 && element_depth_ != depth) {
                    bad("elements and sub-arrays mixed");
                }
                element_depth_ = depth;
                write_element();
            }
            skip_space();
            if (take_char(text_, pos_, '}')) {
                break;
            }
            if (!take_char(text_, pos_, type_.delimiter)) {
                bad("expected the delimiter or '}'");
            }
        }
        out_.EndArray();
    }

    void write_element() {
        std::string_view value;
        if (pos_ < text_.size() && text_[pos_] == '"') {
            if (!take_quoted(text_, pos_, scratch_, value)) {
                bad("unterminated quoted element");
            }
        } else {
            const char stops[] = {type_.delimiter, '}', '{', '"'};
            bool escaped = false;
            value = take_unquoted(text_, pos_, std::string_view(stops, sizeof stops), scratch_,
                                  escaped);
            if (value.empty() ||
                (pos_ < text_.size() && text_[pos_] != type_.delimiter && text_[pos_] != '}')) {
                bad("malformed unquoted element");
            }
            if (!escaped && equals_ignore_case(value, "null")) {
                out_.Null();
                return;
            }
        }
        try {
            write_text_value(out_, registry_, *element_, value);
        } catch (const ValueFormatError& e) {
            throw ValueFormatError(std::string(e.what()) + ", in " + type_.name + " value " +
                                   quote(text_));
        }
    }

    void skip_space() {
        while (pos_ < text_.size() && is_space(text_[pos_])) {
            ++pos_;
        }
    }

    [[noreturn]] void bad(std::string_view why) const { fail(type_, text_, why); }

    JsonWriter& out_;
    const TypeRegistry& registry_;
    const TypeInfo& type_;
    const TypeInfo* element_ = nullptr;
    std::string_view text_;
    std::size_t pos_ = 0;
    int element_depth_ = 0;  // the depth at which elements (not sub-arrays) sit
    std::string scratch_;    // unescaped element text, reused across elements
};

// hstore_out's text: "key"=>"value" pairs separated by ", ", NULL (unquoted) for a null value,
// \" and \\ escaped inside quotes; hstore_in also takes unquoted tokens, written here too.
void write_hstore(JsonWriter& out, const TypeInfo& type, std::string_view text) {
    std::string scratch;
    std::size_t pos = 0;
    const auto skip_space = [&] {
        while (pos < text.size() && is_space(text[pos])) {
            ++pos;
        }
    };
    // A key or value; `plain` when unquoted and unescaped (only such a value can be NULL).
    const auto take_token = [&](std::string_view stops, bool& plain) {
        std::string_view token;
        plain = false;
        if (pos < text.size() && text[pos] == '"') {
            if (!take_quoted(text, pos, scratch, token)) {
                fail(type, text, "unterminated quoted string");
            }
            return token;
        }
        bool escaped = false;
        token = take_unquoted(text, pos, stops, scratch, escaped);
        if (token.empty()) {
            fail(type, text, "expected a key or value");
        }
        plain = !escaped;
        return token;
    };
    out.StartObject();
    skip_space();
    while (pos < text.size()) {
        bool plain = false;
        const std::string_view key = take_token(" \t\n\r\v\f,=\"", plain);
        if (!is_valid_utf8(key)) {
            fail(type, text, "not valid UTF-8 (the connection's client_encoding must be UTF8)");
        }
        out.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
        skip_space();
        if (text.substr(pos, 2) != "=>") {
            fail(type, text, "expected =>");
        }
        pos += 2;
        skip_space();
        const std::string_view value = take_token(" \t\n\r\v\f,\"", plain);
        if (plain && equals_ignore_case(value, "null")) {
            out.Null();
        } else {
            write_string(out, type, value);
        }
        skip_space();
        if (pos == text.size()) {
            break;
        }
        if (!take_char(text, pos, ',')) {
            fail(type, text, "expected ', ' between pairs");
        }
        skip_space();
        if (pos == text.size()) {
            fail(type, text, "a ',' with no pair after it");
        }
    }
    out.EndObject();
}

}  // namespace

void write_text_value(JsonWriter& out, const changeset::TypeRegistry& registry,
                      const changeset::TypeInfo& type, std::string_view text) {
    switch (type.kind) {
        case ValueKind::Bool:
            if (text != "t" && text != "f") {
                fail(type, text, "expected t or f");
            }
            out.Bool(text[0] == 't');
            return;
        case ValueKind::Integer:
            if (!is_integer(text)) {
                fail(type, text, "not an integer");
            }
            out.RawValue(text.data(), text.size(), rapidjson::kNumberType);
            return;
        case ValueKind::Float:
            if (is_special_float(text)) {
                out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
            } else if (is_json_number(text)) {
                out.RawValue(text.data(), text.size(), rapidjson::kNumberType);
            } else {
                fail(type, text, "not a number");
            }
            return;
        case ValueKind::Numeric:
            if (!is_special_float(text) && !is_numeric(text)) {
                fail(type, text, "not a number");
            }
            out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
            return;
        case ValueKind::String:
            write_string(out, type, text);
            return;
        case ValueKind::Bytea:
            write_bytea(out, type, text);
            return;
        case ValueKind::Json:
            write_json(out, type, text);
            return;
        case ValueKind::Date:
            write_date(out, type, text);
            return;
        case ValueKind::Time:
            write_time(out, type, text);
            return;
        case ValueKind::TimeTz:
            write_timetz(out, type, text);
            return;
        case ValueKind::Timestamp:
            write_timestamp(out, type, text);
            return;
        case ValueKind::TimestampTz:
            write_timestamptz(out, type, text);
            return;
        case ValueKind::Interval:
            if (!is_iso_interval(text)) {
                fail(type, text, "expected an ISO 8601 duration (IntervalStyle=iso_8601)");
            }
            out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
            return;
        case ValueKind::Array:
            ArrayText(out, registry, type, text).write();
            return;
        case ValueKind::Hstore:
            write_hstore(out, type, text);
            return;
    }
    write_string(out, type, text);  // a kind added to the enum but not here: "anything else"
}

}  // namespace pgcs::encode
