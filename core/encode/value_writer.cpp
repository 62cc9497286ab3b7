// Column values: PostgreSQL's text output -> the JSON form of the contract's type table. Runs
// per column per row, so it parses string_views in place and writes through rapidjson; only
// large bytea values and escaped array/hstore elements need a heap buffer. This file
// dispatches on the type's kind and writes the scalars; each structured kind has its own file.
#include "core/encode/value_writer.hpp"

#include <cstddef>

#include "core/encode/array_text.hpp"
#include "core/encode/bytea_text.hpp"
#include "core/encode/hstore_text.hpp"
#include "core/encode/json_text.hpp"
#include "core/encode/temporal_text.hpp"
#include "core/encode/text_scan.hpp"
#include "core/encode/utf8.hpp"
#include "core/encode/value_error.hpp"

namespace pgcs::encode {
namespace {

using changeset::ValueKind;
using detail::fail;
using detail::is_digit;
using detail::take_digits;

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
            } else if (text == "-0") {
                // float4out/float8out's negative zero. Most JSON readers take "-0" for the
                // integer 0 and drop the sign; "-0.0" is a float, sign kept, everywhere.
                out.RawValue("-0.0", 4, rapidjson::kNumberType);
            } else if (detail::is_json_number(text)) {
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
            detail::write_string(out, type, text);
            return;
        case ValueKind::Bytea:
            detail::write_bytea(out, type, text);
            return;
        case ValueKind::Json:
            detail::write_json(out, type, text);
            return;
        case ValueKind::Date:
            detail::write_date(out, type, text);
            return;
        case ValueKind::Time:
            detail::write_time(out, type, text);
            return;
        case ValueKind::TimeTz:
            detail::write_timetz(out, type, text);
            return;
        case ValueKind::Timestamp:
            detail::write_timestamp(out, type, text);
            return;
        case ValueKind::TimestampTz:
            detail::write_timestamptz(out, type, text);
            return;
        case ValueKind::Interval:
            detail::write_interval(out, type, text);
            return;
        case ValueKind::Array:
            detail::write_array(out, registry, type, text);
            return;
        case ValueKind::Hstore:
            detail::write_hstore(out, type, text);
            return;
    }
    // A kind added to the enum but not here: "anything else".
    detail::write_string(out, type, text);
}

}  // namespace pgcs::encode
