// One column value in PostgreSQL's text form -> its JSON as Debezium's PostgreSQL connector
// writes it through JsonConverter (debezium_types.hpp says which kind a column is). The text
// is what the source's session settings print (DateStyle=ISO, TimeZone=UTC,
// IntervalStyle=iso_8601, bytea_output=hex).
#pragma once

#include <string>
#include <string_view>

#include "core/encode/debezium_types.hpp"
#include "core/encode/value_writer.hpp"

namespace pgcs::encode::debezium {

// The value Debezium writes for an unchanged TOAST value (unchanged.toasted.value.placeholder).
inline constexpr std::string_view kUnavailable = "__debezium_unavailable_value";

class ValueWriter {
  public:
    // Writes `text`, a value of a column of type `type`. Throws ValueFormatError.
    void write(JsonWriter& w, const ColumnType& type, std::string_view text);
    // Debezium's placeholder for an unchanged TOAST value of such a column.
    void write_unavailable(JsonWriter& w, const ColumnType& type);
    // What Debezium writes for a NOT NULL column without a value (a key-only old row):
    // JdbcValueConverters' fallback (0, false, "", an empty array, ...).
    void write_fallback(JsonWriter& w, const ColumnType& type);

  private:
    void write_scalar(JsonWriter& w, const ColumnType& type, std::string_view text);
    void write_array(JsonWriter& w, const ColumnType& type, std::string_view text);
    void write_base64(JsonWriter& w, std::string_view bytes);
    void write_decimal(JsonWriter& w, std::string_view digits, bool negative, int scale);

    std::string base64_;   // their base64
    std::string scratch_;  // array element unescaping
    std::string element_;  // one array element
};

// Exposed for tests: the two's complement big-endian bytes of the integer `digits` (decimal,
// no sign), negated when `negative`, as java.math.BigInteger.toByteArray() gives them.
std::string unscaled_bytes(std::string_view digits, bool negative);

}  // namespace pgcs::encode::debezium
