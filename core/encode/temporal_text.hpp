// Dates, times and intervals: PostgreSQL's DateStyle=ISO / IntervalStyle=iso_8601 text -> the
// contract's ISO 8601 strings. Each throws ValueFormatError on text of another form.
#pragma once

#include <string_view>

#include "core/changeset/type_registry.hpp"
#include "core/encode/value_writer.hpp"

namespace pgcs::encode::detail {

// "2026-11-23", "0044-03-15 BC" -> "-0043-03-15" (astronomical years); infinities as they are.
void write_date(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text);
// "13:45:00.5" as it is.
void write_time(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text);
// "13:45:00.5+02" -> "13:45:00.5+02:00".
void write_timetz(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text);
// "2026-11-23 13:45:00.5" -> "2026-11-23T13:45:00.5".
void write_timestamp(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text);
// "2026-11-23 13:45:00.1234+02" -> "2026-11-23T11:45:00.123400Z".
void write_timestamptz(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text);
// "P1Y2M3DT4H5M6.5S" as it is.
void write_interval(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text);

}  // namespace pgcs::encode::detail
