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

}  // namespace pgcs::config::detail
