// Values as Debezium's PostgresValueConverter converts them and JsonConverter writes them.
#include "core/encode/debezium_values.hpp"

#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "core/encode/bytea_text.hpp"
#include "core/encode/debezium_temporal.hpp"
#include "core/encode/escaped_token.hpp"
#include "core/encode/hstore_text.hpp"
#include "core/encode/text_scan.hpp"

namespace pgcs::encode::debezium {
namespace {

using encode::detail::is_digit;
using pgtext::bad;
using pgtext::date_days;
using pgtext::duration_micros;
using pgtext::ends_bc;
using pgtext::expect;
using pgtext::floor_div;
using pgtext::floor_mod;
using pgtext::kMicrosPerDay;
using pgtext::put_date;
using pgtext::put_time;
using pgtext::time_of_day;
using pgtext::utc_offset;

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
