// Proleptic Gregorian calendar arithmetic on day numbers, 1970-01-01 = 0 (H. Hinnant's
// days_from_civil and civil_from_days, http://howardhinnant.github.io/date_algorithms.html),
// the calendar PostgreSQL's date2j/j2date use.
#pragma once

#include <cstdint>

namespace pgcs::encode::detail {

struct CivilDate {
    std::int64_t year = 0;  // astronomical: 1 BC is 0, 44 BC is -43
    unsigned month = 0;
    unsigned day = 0;
};

// Days since 1970-01-01 of PostgreSQL's epoch, 2000-01-01.
inline constexpr std::int64_t kPgEpochDays = 10957;

inline std::int64_t days_from_civil(const CivilDate& c) {
    const std::int64_t y = c.year - (c.month <= 2 ? 1 : 0);
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (c.month > 2 ? c.month - 3 : c.month + 9) + 2) / 5 + c.day - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

inline CivilDate civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    CivilDate c;
    c.day = doy - (153 * mp + 2) / 5 + 1;
    c.month = mp < 10 ? mp + 3 : mp - 9;
    c.year = static_cast<std::int64_t>(yoe) + era * 400 + (c.month <= 2 ? 1 : 0);
    return c;
}

}  // namespace pgcs::encode::detail
