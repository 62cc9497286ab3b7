// PostgreSQL's text forms (DateStyle=ISO, TimeZone=UTC, IntervalStyle=iso_8601) read into the
// numbers Debezium writes, and those numbers printed as java.time prints them. Used by
// debezium_values.cpp. Each throws ValueFormatError on text that does not parse.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pgcs::encode::debezium::pgtext {

inline constexpr std::int64_t kMicrosPerDay = 86400LL * 1000000LL;

[[noreturn]] void bad(std::string_view what, std::string_view text);
// `c` at pos, or bad().
void expect(std::string_view s, std::size_t& pos, char c, std::string_view what);
// "HH:MM:SS[.ffffff]" at pos -> microseconds of the day.
std::int64_t time_of_day(std::string_view s, std::size_t& pos, std::string_view what);
// "YYYY-MM-DD" at pos -> days since 1970-01-01; `bc` for a " BC" date.
std::int64_t date_days(std::string_view s, std::size_t& pos, bool bc, std::string_view what);
bool ends_bc(std::string_view s);
// "+HH[:MM[:SS]]" or "-..." at pos -> seconds east of UTC.
std::int64_t utc_offset(std::string_view s, std::size_t& pos, std::string_view what);
std::int64_t floor_div(std::int64_t a, std::int64_t b);
std::int64_t floor_mod(std::int64_t a, std::int64_t b);
// "HH:MM:SS" and `width` fraction digits (as few as needed when width < 0, none when zero).
void put_time(std::string& out, std::int64_t micros_of_day, int width);
// ISO_LOCAL_DATE of days since 1970.
void put_date(std::string& out, std::int64_t days);
// An ISO 8601 interval -> MicroDuration.durationMicros() (a month is 365.25 / 12 days).
std::int64_t duration_micros(std::string_view s);

}  // namespace pgcs::encode::debezium::pgtext
