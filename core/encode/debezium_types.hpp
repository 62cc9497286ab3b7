// How Debezium's PostgreSQL connector (3.x, PostgresValueConverter) maps a column: its Kafka
// Connect schema type, semantic name and parameters, and how its value is written, from the
// column's type and type modifier and the kafka.debezium options. Pure.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/changeset/type_registry.hpp"

namespace pgcs::encode::debezium {

// decimal.handling.mode and time.precision.mode.
enum class DecimalMode { Precise, String, Double };
enum class TimeMode { Adaptive, Connect };

struct TypeOptions {
    DecimalMode decimal = DecimalMode::Precise;
    TimeMode time = TimeMode::Adaptive;
};

enum class Kind : std::uint8_t {
    Dropped,  // Debezium has no schema for it: the column is left out of key, rows and schema
    Bool,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Decimal,          // org.apache.kafka.connect.data.Decimal: base64 of the unscaled integer
    VariableDecimal,  // io.debezium.data.VariableScaleDecimal {scale, value}
    DecimalString,    // decimal.handling.mode: string
    DecimalDouble,    // decimal.handling.mode: double
    String,           // with `semantic` (io.debezium.data.Json, ...) or none
    Bytes,            // bytea: base64
    Date,             // io.debezium.time.Date (days); connect: org.apache.kafka.connect.data.Date
    TimeMillis,       // io.debezium.time.Time; connect: org.apache.kafka.connect.data.Time
    TimeMicros,       // io.debezium.time.MicroTime
    TimestampMillis,  // io.debezium.time.Timestamp; connect: ...connect.data.Timestamp
    TimestampMicros,  // io.debezium.time.MicroTimestamp
    ZonedTimestamp,   // ISO string in UTC, `width` fraction digits
    ZonedTime,        // ISO time in UTC
    MicroDuration,    // int64 microseconds, a month as 365.25 / 12 days
    Money,            // Decimal, scale 2
    Bit,              // bit(1): boolean
    Bits,             // io.debezium.data.Bits: bytes, little-endian
    Point,            // io.debezium.data.geometry.Point {x, y, wkb, srid}
    Hstore,           // io.debezium.data.Json string of the map
};

struct ColumnType {
    Kind kind = Kind::Dropped;
    bool array = false;            // a JSON array of `kind` values (one dimension)
    std::string_view semantic;     // schema name for String kinds (may be empty)
    bool connect_names = false;    // time.precision.mode: connect (Kafka Connect's names)
    int scale = 0;                 // Decimal, Money
    int precision = 0;             // Decimal (0: none known)
    int width = 0;                 // ZonedTimestamp fraction digits; Bits length
    std::string_view enum_labels;  // an enum's (or enum array's) "allowed" parameter
};

// The mapping of a column of `type` with `typmod` (-1: none).
ColumnType map_column(const changeset::TypeRegistry& registry, const changeset::TypeInfo& type,
                      std::int32_t typmod, const TypeOptions& options);

}  // namespace pgcs::encode::debezium
