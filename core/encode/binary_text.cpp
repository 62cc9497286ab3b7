// Binary send formats -> PostgreSQL's text output. Formats: the types' *send functions in
// PostgreSQL's src/backend/utils/adt; text layouts: their *out functions under the session
// settings in the header. Checked against the server by the binary-mode integration test,
// which compares every value with text mode.
#include "core/encode/binary_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/encode/civil_date.hpp"
#include "core/encode/value_error.hpp"

namespace pgcs::encode {
namespace {

using changeset::Oid;
using changeset::TypeInfo;
using changeset::ValueKind;

constexpr Oid kBool = 16, kBytea = 17, kName = 19, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25,
              kOid = 26, kJson = 114, kXml = 142, kFloat4 = 700, kFloat8 = 701, kUnknown = 705,
              kBpchar = 1042, kVarchar = 1043, kDate = 1082, kTime = 1083, kTimestamp = 1114,
              kTimestampTz = 1184, kInterval = 1186, kTimeTz = 1266, kNumeric = 1700, kUuid = 2950,
              kJsonb = 3802;

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

void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_padded(std::string& out, std::int64_t v, int width) {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(v));
    out.append(buf, static_cast<std::size_t>(n));
}

// Ryu-style shortest digits formatted as PostgreSQL's float4out/float8out do with
// extra_float_digits > 0: fixed notation for decimal exponents in [-4, max_fixed), else
// d.ddde[+-]XX.
template <typename F>
void append_float(std::string& out, F value, int max_fixed) {
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
void append_seconds(std::string& out, std::int64_t sec, std::int64_t fsec, bool pad) {
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

void append_iso_part(std::string& out, std::int64_t v, char unit) {
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

void append_hex(std::string& out, std::span<const std::byte> b) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (std::byte x : b) {
        const auto v = std::to_integer<unsigned>(x);
        out += kHex[v >> 4];
        out += kHex[v & 15];
    }
}

void append_uuid(Reader& r, std::string& out) {
    const auto b = r.take(16);
    r.expect_end();
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out += '-';
        }
        append_hex(out, b.subspan(i, 1));
    }
}

void append_text(Reader& r, std::string& out) {
    const auto b = r.take(r.left());
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
}

// array_out's quoting: an element is quoted when empty, "NULL" in any case, or holding a
// quote, backslash, brace, the delimiter or white space.
void append_array_element(std::string& out, std::string_view e, char delimiter) {
    bool quote = e.empty() ||
                 (e.size() == 4 && (e[0] == 'N' || e[0] == 'n') && (e[1] == 'U' || e[1] == 'u') &&
                  (e[2] == 'L' || e[2] == 'l') && (e[3] == 'L' || e[3] == 'l'));
    for (char c : e) {
        if (c == '"' || c == '\\' || c == '{' || c == '}' || c == delimiter || c == ' ' ||
            c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
            quote = true;
            break;
        }
    }
    if (!quote) {
        out += e;
        return;
    }
    out += '"';
    for (char c : e) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
}

bool convert(const changeset::TypeRegistry& registry, const TypeInfo& type,
             std::span<const std::byte> bytes, std::string& out);

bool append_array(const changeset::TypeRegistry& registry, const TypeInfo& type, Reader& r,
                  std::string& out) {
    const std::int32_t ndim = r.i32();
    r.i32();  // has-null flag
    const auto element_oid = static_cast<Oid>(r.u(4));
    if (ndim < 0 || ndim > 6) {
        r.bad("bad array dimension count");
    }
    if (ndim == 0) {
        out += "{}";
        return true;
    }
    const TypeInfo* element = registry.find(type.element_oid != 0 ? type.element_oid : element_oid);
    if (element == nullptr) {
        return false;
    }
    std::vector<std::int64_t> dims(static_cast<std::size_t>(ndim));
    std::vector<std::int32_t> lbounds(static_cast<std::size_t>(ndim));
    bool decorate = false;
    std::int64_t total = 1;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        dims[i] = r.i32();
        lbounds[i] = r.i32();
        if (dims[i] < 0) {
            r.bad("negative array dimension");
        }
        total *= dims[i];
        decorate = decorate || lbounds[i] != 1;
        if (total > static_cast<std::int64_t>(r.left())) {
            r.bad("array larger than its bytes");
        }
    }
    if (total == 0) {
        out += "{}";
        r.expect_end();
        return true;
    }
    if (decorate) {
        for (std::size_t i = 0; i < dims.size(); ++i) {
            out += '[';
            append_int(out, lbounds[i]);
            out += ':';
            append_int(out, lbounds[i] + dims[i] - 1);
            out += ']';
        }
        out += '=';
    }
    const char delimiter = type.delimiter;
    std::vector<std::int64_t> index(dims.size(), 0);
    std::string scratch;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        out += '{';
    }
    for (std::int64_t n = 0; n < total; ++n) {
        const std::int32_t len = r.i32();
        if (len == -1) {
            out += "NULL";
        } else {
            if (len < 0) {
                r.bad("bad array element length");
            }
            scratch.clear();
            if (!convert(registry, *element, r.take(static_cast<std::size_t>(len)), scratch)) {
                return false;
            }
            append_array_element(out, scratch, delimiter);
        }
        // Close and reopen braces as the index rolls over, like array_out.
        std::size_t d = dims.size();
        while (d > 0) {
            --d;
            if (++index[d] < dims[d]) {
                out += delimiter;
                for (std::size_t k = d + 1; k < dims.size(); ++k) {
                    out += '{';
                }
                break;
            }
            index[d] = 0;
            out += '}';
        }
    }
    r.expect_end();
    return true;
}

void append_hstore_string(std::string& out, std::span<const std::byte> b) {
    out += '"';
    for (std::byte x : b) {
        const char c = static_cast<char>(x);
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
}

void append_hstore(Reader& r, std::string& out) {
    const std::int32_t count = r.i32();
    if (count < 0) {
        r.bad("bad hstore pair count");
    }
    for (std::int32_t i = 0; i < count; ++i) {
        if (i > 0) {
            out += ", ";
        }
        const std::int32_t klen = r.i32();
        if (klen < 0) {
            r.bad("hstore key is null");
        }
        append_hstore_string(out, r.take(static_cast<std::size_t>(klen)));
        out += "=>";
        const std::int32_t vlen = r.i32();
        if (vlen == -1) {
            out += "NULL";
        } else if (vlen < 0) {
            r.bad("bad hstore value length");
        } else {
            append_hstore_string(out, r.take(static_cast<std::size_t>(vlen)));
        }
    }
    r.expect_end();
}

bool convert(const changeset::TypeRegistry& registry, const TypeInfo& type,
             std::span<const std::byte> bytes, std::string& out) {
    Reader r(type, bytes);
    if (type.kind == ValueKind::Array) {
        return append_array(registry, type, r, out);
    }
    if (type.kind == ValueKind::Hstore) {
        append_hstore(r, out);
        return true;
    }
    const Oid send = type.send_oid != 0
                         ? type.send_oid
                         : (changeset::TypeRegistry::builtin(type.oid) != nullptr ? type.oid : 0);
    switch (send) {
        case kBool: {
            const auto v = r.u(1);
            r.expect_end();
            out += v != 0 ? 't' : 'f';
            return true;
        }
        case kInt2:
            append_int(out, r.i16());
            r.expect_end();
            return true;
        case kInt4:
            append_int(out, r.i32());
            r.expect_end();
            return true;
        case kInt8:
            append_int(out, r.i64());
            r.expect_end();
            return true;
        case kOid:
            append_int(out, static_cast<std::int64_t>(r.u(4)));
            r.expect_end();
            return true;
        case kFloat4: {
            const auto bits = static_cast<std::uint32_t>(r.u(4));
            r.expect_end();
            float f = 0;
            std::memcpy(&f, &bits, 4);
            append_float(out, f, 6);
            return true;
        }
        case kFloat8: {
            const std::uint64_t bits = r.u(8);
            r.expect_end();
            double f = 0;
            std::memcpy(&f, &bits, 8);
            append_float(out, f, 15);
            return true;
        }
        case kNumeric:
            append_numeric(r, out);
            return true;
        case kText:
        case kVarchar:
        case kBpchar:
        case kName:
        case kUnknown:
        case kXml:
        case kJson:
            append_text(r, out);
            return true;
        case kJsonb: {
            if (r.u(1) != 1) {
                r.bad("unsupported jsonb version");
            }
            append_text(r, out);
            return true;
        }
        case kBytea:
            out += "\\x";
            append_hex(out, r.take(r.left()));
            return true;
        case kUuid:
            append_uuid(r, out);
            return true;
        case kDate: {
            const std::int32_t d = r.i32();
            r.expect_end();
            if (d == std::numeric_limits<std::int32_t>::max()) {
                out += "infinity";
            } else if (d == std::numeric_limits<std::int32_t>::min()) {
                out += "-infinity";
            } else if (append_date(out, d)) {
                out += " BC";
            }
            return true;
        }
        case kTime: {
            const std::int64_t t = r.i64();
            r.expect_end();
            append_time_of_day(out, t);
            return true;
        }
        case kTimeTz: {
            const std::int64_t t = r.i64();
            const std::int32_t zone = r.i32();
            r.expect_end();
            append_time_of_day(out, t);
            append_zone(out, zone);
            return true;
        }
        case kTimestamp:
            append_timestamp(r, out, false);
            return true;
        case kTimestampTz:
            append_timestamp(r, out, true);
            return true;
        case kInterval:
            append_interval(r, out);
            return true;
        default:
            return false;
    }
}

}  // namespace

bool binary_to_text(const changeset::TypeRegistry& registry, const TypeInfo& type,
                    std::span<const std::byte> bytes, std::string& out) {
    const std::size_t mark = out.size();
    if (!convert(registry, type, bytes, out)) {
        out.resize(mark);
        return false;
    }
    return true;
}

}  // namespace pgcs::encode
