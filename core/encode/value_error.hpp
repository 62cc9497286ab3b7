// ValueFormatError's message: the type's name and a log-safe quote of the offending value.
#pragma once

#include <string>
#include <string_view>

#include "core/changeset/type_registry.hpp"

namespace pgcs::encode::detail {

// `"prefix…"`, cut on a UTF-8 boundary, control bytes shown as '?': error messages go to logs.
std::string quote(std::string_view text);

// Throws ValueFormatError("invalid <type> value <quote(text)>: <why>").
[[noreturn, gnu::cold]] void fail(const changeset::TypeInfo& type, std::string_view text,
                                  std::string_view why);

}  // namespace pgcs::encode::detail
