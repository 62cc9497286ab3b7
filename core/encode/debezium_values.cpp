// Values as Debezium's PostgresValueConverter converts them and JsonConverter writes them.
#include "core/encode/debezium_values.hpp"

#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "core/encode/bytea_text.hpp"
#include "core/encode/civil_date.hpp"
#include "core/encode/escaped_token.hpp"
#include "core/encode/hstore_text.hpp"
#include "core/encode/text_scan.hpp"

namespace pgcs::encode::debezium {
namespace {

using detail::is_digit;

constexpr std::int64_t kMicrosPerDay = 86400LL * 1000000LL;

[[noreturn]] void bad(std::string_view what, std::string_view text) {
    throw ValueFormatError("not a " + std::string(what) + " value: '" +
                           std::string(text.substr(0, 64)) + "'");
}

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

void expect(std::string_view s, std::size_t& pos, char c, std::string_view what) {
    if (!detail::take_char(s, pos, c)) {
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
    if (detail::take_char(s, pos, '.')) {
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
    return detail::days_from_civil({y, m, d});
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
    if (detail::take_char(s, pos, ':')) {
        off += number(s, pos, what, s) * 60;
        if (detail::take_char(s, pos, ':')) {
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
    const detail::CivilDate c = detail::civil_from_days(days);
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
        const bool minus = detail::take_char(s, pos, '-');
        const std::int64_t whole = number(s, pos, "interval", s);
        std::int64_t micros = 0;
        if (detail::take_char(s, pos, '.')) {
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

void raw_number(JsonWriter& w, std::string_view text) {
    w.RawValue(text.data(), text.size(), rapidjson::kNumberType);
}

// A float's text: NaN and the infinities as Jackson writes them (strings).
void write_float(JsonWriter& w, std::string_view text) {
    if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
        w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
        return;
    }
    raw_number(w, text);
}

}  // namespace

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

void ValueWriter::write_base64(JsonWriter& w, std::string_view bytes) {
    base64_.resize((bytes.size() + 2) / 3 * 4 + 1);
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64_.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    w.String(base64_.data(), static_cast<rapidjson::SizeType>(n));
}

void ValueWriter::write_decimal(JsonWriter& w, std::string_view digits, bool negative, int scale) {
    (void)scale;
    write_base64(w, unscaled_bytes(digits, negative));
}

void ValueWriter::write(JsonWriter& w, const ColumnType& type, std::string_view text) {
    if (type.array) {
        write_array(w, type, text);
    } else {
        write_scalar(w, type, text);
    }
}

void ValueWriter::write_scalar(JsonWriter& w, const ColumnType& type, std::string_view text) {
    const auto str = [&w](std::string_view s) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    switch (type.kind) {
        case Kind::Dropped:
            throw std::logic_error("a dropped column has no value");
        case Kind::Bool:
        case Kind::Bit:
            w.Bool(text == "t" || text == "true" || text == "1");
            return;
        case Kind::Int16:
        case Kind::Int32:
        case Kind::Int64:
            raw_number(w, text);
            return;
        case Kind::Float32:
        case Kind::Float64:
        case Kind::DecimalDouble:
            write_float(w, text);
            return;
        case Kind::DecimalString:
            if (text.find('$') != std::string_view::npos) {  // money: its digits
                std::string s;
                for (char c : text) {
                    if (is_digit(c) || c == '.' || c == '-') {
                        s += c;
                    }
                }
                str(s);
                return;
            }
            str(text);
            return;
        case Kind::Decimal:
        case Kind::Money:
        case Kind::VariableDecimal: {
            const bool negative = !text.empty() && (text[0] == '-' || text[0] == '(');
            std::string digits;
            int scale = 0;
            bool point = false;
            for (char c : text) {
                if (is_digit(c)) {
                    digits += c;
                    scale += point ? 1 : 0;
                } else if (c == '.') {
                    point = true;
                } else if (c == 'N' || c == 'I') {  // NaN, Infinity: no Decimal holds them
                    w.Null();
                    return;
                }
            }
            if (type.kind != Kind::VariableDecimal) {
                for (; scale < type.scale; ++scale) {
                    digits += '0';
                }
                write_decimal(w, digits, negative, scale);
                return;
            }
            w.StartObject();
            w.Key("scale");
            w.Int(scale);
            w.Key("value");
            write_decimal(w, digits, negative, scale);
            w.EndObject();
            return;
        }
        case Kind::String:
            str(text);
            return;
        case Kind::Hstore: {
            rapidjson::StringBuffer buf;
            JsonWriter inner(buf);
            static const changeset::TypeInfo hstore{0, "hstore", changeset::ValueKind::Hstore};
            detail::write_hstore(inner, hstore, text);
            str({buf.GetString(), buf.GetSize()});
            return;
        }
        case Kind::Bytes: {
            static const changeset::TypeInfo bytea{17, "bytea", changeset::ValueKind::Bytea};
            detail::write_bytea(w, bytea, text);  // the native format's decoding: base64
            return;
        }
        case Kind::Date: {
            // PostgreSQL's DATEVAL_NOEND/NOBEGIN (INT32_MAX/MIN days from 2000) moved to 1970
            // in 32 bits, wrapping around, as Debezium computes it.
            if (text == "infinity") {
                w.Int(static_cast<std::int32_t>(static_cast<std::uint32_t>(INT32_MAX) + 10957U));
                return;
            }
            if (text == "-infinity") {
                w.Int(INT32_MIN + 10957);
                return;
            }
            std::size_t pos = 0;
            w.Int64(date_days(text, pos, ends_bc(text), "date"));
            return;
        }
        case Kind::TimeMillis:
        case Kind::TimeMicros: {
            std::size_t pos = 0;
            const std::int64_t micros = time_of_day(text, pos, "time");
            if (type.kind == Kind::TimeMillis) {
                w.Int64(micros / 1000);
            } else {
                w.Int64(micros);
            }
            return;
        }
        case Kind::TimestampMillis:
        case Kind::TimestampMicros: {
            // The JDBC driver's infinity instants (PGStatement.DATE_POSITIVE/NEGATIVE_INFINITY).
            if (text == "infinity") {
                w.Int64(9223372036825200000LL);
                return;
            }
            if (text == "-infinity") {
                w.Int64(-9223372036832400000LL);
                return;
            }
            std::size_t pos = 0;
            const std::int64_t days = date_days(text, pos, ends_bc(text), "timestamp");
            expect(text, pos, ' ', "timestamp");
            const std::int64_t micros = days * kMicrosPerDay + time_of_day(text, pos, "timestamp");
            w.Int64(type.kind == Kind::TimestampMillis ? floor_div(micros, 1000) : micros);
            return;
        }
        case Kind::ZonedTimestamp: {
            if (text == "infinity" || text == "-infinity") {
                str(text);
                return;
            }
            std::size_t pos = 0;
            const bool bc = ends_bc(text);
            const std::int64_t days = date_days(text, pos, bc, "timestamptz");
            expect(text, pos, ' ', "timestamptz");
            std::int64_t micros = days * kMicrosPerDay + time_of_day(text, pos, "timestamptz");
            micros -= utc_offset(text, pos, "timestamptz") * 1000000;
            scratch_.clear();
            put_date(scratch_, floor_div(micros, kMicrosPerDay));
            scratch_ += 'T';
            put_time(scratch_, floor_mod(micros, kMicrosPerDay), type.width > 0 ? type.width : -1);
            scratch_ += 'Z';
            str(scratch_);
            return;
        }
        case Kind::ZonedTime: {
            std::size_t pos = 0;
            std::int64_t micros = time_of_day(text, pos, "timetz");
            micros -= utc_offset(text, pos, "timetz") * 1000000;
            scratch_.clear();
            put_time(scratch_, floor_mod(micros, kMicrosPerDay), -1);
            scratch_ += 'Z';
            str(scratch_);
            return;
        }
        case Kind::MicroDuration:
            w.Int64(duration_micros(text));
            return;
        case Kind::Bits: {
            // BigInteger(bits, 2).toByteArray(), reversed to little-endian, padded.
            std::vector<std::uint8_t> le((static_cast<std::size_t>(type.width) + 7) / 8, 0);
            const std::size_t n = text.size();
            for (std::size_t i = 0; i < n; ++i) {
                if (text[n - 1 - i] == '1' && i / 8 < le.size()) {
                    le[i / 8] = static_cast<std::uint8_t>(le[i / 8] | (1U << (i % 8)));
                }
            }
            write_base64(w, std::string(le.begin(), le.end()));
            return;
        }
        case Kind::Point: {
            double x = 0;
            double y = 0;
            if (std::sscanf(std::string(text).c_str(), "(%lf,%lf)", &x, &y) != 2) {
                bad("point", text);
            }
            std::string wkb(21, '\0');  // little-endian WKB Point, as Point.createValue()
            wkb[0] = 1;
            wkb[1] = 1;
            std::memcpy(wkb.data() + 5, &x, 8);
            std::memcpy(wkb.data() + 13, &y, 8);
            w.StartObject();
            w.Key("x");
            w.Double(x);
            w.Key("y");
            w.Double(y);
            w.Key("wkb");
            write_base64(w, wkb);
            w.Key("srid");
            w.Null();
            w.EndObject();
            return;
        }
    }
}

void ValueWriter::write_array(JsonWriter& w, const ColumnType& type, std::string_view text) {
    ColumnType element = type;
    element.array = false;
    std::size_t pos = 0;
    if (pos < text.size() && text[pos] == '[') {  // "[0:1]={...}": bounds are not kept
        pos = text.find('=');
        if (pos == std::string_view::npos) {
            bad("array", text);
        }
        ++pos;
    }
    int depth = 0;
    while (pos < text.size()) {
        const char c = text[pos];
        if (c == '{' && depth == 1) {
            // A multi-dimensional array: Debezium's converter writes null for each sub-array.
            w.Null();
            int nested = 0;
            bool quoted = false;
            for (; pos < text.size(); ++pos) {
                const char d = text[pos];
                if (quoted) {
                    if (d == '\\') {
                        ++pos;
                    } else if (d == '"') {
                        quoted = false;
                    }
                } else if (d == '"') {
                    quoted = true;
                } else if (d == '{') {
                    ++nested;
                } else if (d == '}' && --nested == 0) {
                    ++pos;
                    break;
                }
            }
        } else if (c == '{') {
            w.StartArray();
            ++depth;
            ++pos;
        } else if (c == '}') {
            w.EndArray();
            --depth;
            ++pos;
        } else if (c == ',' || c == ';' || detail::is_space(c)) {
            ++pos;
        } else if (c == '"') {
            std::string_view value;
            if (!detail::take_quoted(text, pos, scratch_, value)) {
                bad("array", text);
            }
            element_.assign(value);
            write_scalar(w, element, element_);
        } else {
            bool escaped = false;
            const std::string_view value = detail::take_unquoted(
                text, pos, type.kind == Kind::String ? ",}" : ",;}", scratch_, escaped);
            if (!escaped && detail::equals_ignore_case(value, "null")) {
                w.Null();
            } else {
                element_.assign(value);
                write_scalar(w, element, element_);
            }
        }
    }
    if (depth != 0) {
        bad("array", text);
    }
}

void ValueWriter::write_unavailable(JsonWriter& w, const ColumnType& type) {
    const auto placeholder = [&w] {
        w.String(kUnavailable.data(), static_cast<rapidjson::SizeType>(kUnavailable.size()));
    };
    if (type.array) {
        w.StartArray();
        switch (type.kind) {
            case Kind::Int16:
            case Kind::Int32:
            case Kind::Int64:
                for (char c : kUnavailable) {  // the placeholder's bytes as numbers
                    w.Int(c);
                }
                break;
            case Kind::Bytes:
                write_base64(w, kUnavailable);
                break;
            default:
                placeholder();
        }
        w.EndArray();
        return;
    }
    switch (type.kind) {
        case Kind::Bytes:
            write_base64(w, kUnavailable);
            return;
        case Kind::Hstore: {
            const std::string map =
                "{\"" + std::string(kUnavailable) + "\":\"" + std::string(kUnavailable) + "\"}";
            w.String(map.data(), static_cast<rapidjson::SizeType>(map.size()));
            return;
        }
        default:
            placeholder();
    }
}

void ValueWriter::write_fallback(JsonWriter& w, const ColumnType& type) {
    if (type.array) {
        w.StartArray();
        w.EndArray();
        return;
    }
    switch (type.kind) {
        case Kind::Bool:
        case Kind::Bit:
            w.Bool(false);
            return;
        case Kind::Float32:
        case Kind::Float64:
        case Kind::DecimalDouble:
            w.Double(0.0);
            return;
        case Kind::Decimal:
        case Kind::Money:
            write_base64(w, std::string(1, '\0'));
            return;
        case Kind::VariableDecimal:
            w.StartObject();
            w.Key("scale");
            w.Int(0);
            w.Key("value");
            write_base64(w, std::string(1, '\0'));
            w.EndObject();
            return;
        case Kind::DecimalString:
            w.String("0");
            return;
        case Kind::String:
        case Kind::Hstore:
        case Kind::Bytes:
        case Kind::Bits:
            w.String("");
            return;
        case Kind::ZonedTimestamp:
            w.String("1970-01-01T00:00:00Z");
            return;
        case Kind::ZonedTime:
            w.String("00:00:00Z");
            return;
        case Kind::Point:
        case Kind::Dropped:
            w.Null();
            return;
        default:  // numbers, days and times since 1970, durations
            w.Int(0);
            return;
    }
}

}  // namespace pgcs::encode::debezium
