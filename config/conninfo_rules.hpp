// Checks postgres.conninfo with libpq's own parser (PQconninfoParse: no connection) and the
// values libpq only checks when it connects. Messages name the keyword or the position,
// never any part of a value: a password may be in the string.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgcs::config::detail {

std::optional<std::string> check_conninfo(const std::string& conninfo);

}  // namespace pgcs::config::detail
