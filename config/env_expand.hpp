// `${VAR}` substitution for configuration values, applied to every scalar value (never to keys)
// before it is typed or validated. The environment is reached through an EnvLookup so tests
// do not depend on the real process environment.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace pgcs::config::detail {

struct EnvExpansion {
    std::string value;                // the text with every reference replaced
    std::vector<std::string> errors;  // one message per bad or unset reference; empty on success
};

// Replaces each `${NAME}` by the variable NAME and each `$${` by a literal `${`; any other `$`
// stays as written. A substituted value is not expanded again.
EnvExpansion expand_env(std::string_view text, const EnvLookup& env);

// expand_env() for postgres.conninfo: a variable's text becomes exactly the text of the
// parameter value it stands in, whatever it contains, so that a variable can never add or
// change another parameter. In the keyword=value form, inside a value, `\`, `'` and white
// space are backslash-escaped (libpq reads `\c` as `c`, quoted or not) and an empty value
// that is the whole value becomes `''`; a reference where a keyword goes is pasted as it is
// (the variable holds connection-string text: `conninfo: ${PGCS_CONNINFO}`). In the URI form
// (`postgresql://`, `postgres://`) a variable is percent-encoded.
EnvExpansion expand_conninfo(std::string_view text, const EnvLookup& env);

}  // namespace pgcs::config::detail
