// `${VAR}` substitution for configuration values; see env_expand.hpp.
#include "config/env_expand.hpp"

namespace pgcs::config::detail {
namespace {

bool is_name_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_valid_name(std::string_view name) {
    if (name.empty() || !is_name_start(name.front())) {
        return false;
    }
    for (char c : name) {
        if (!is_name_start(c) && !(c >= '0' && c <= '9')) {
            return false;
        }
    }
    return true;
}

}  // namespace

EnvExpansion expand_env(std::string_view text, const EnvLookup& env) {
    EnvExpansion out;
    out.value.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        std::string_view rest = text.substr(i);
        if (rest.starts_with("$${")) {
            out.value += "${";
            i += 3;
            continue;
        }
        if (!rest.starts_with("${")) {
            out.value += text[i];
            ++i;
            continue;
        }
        std::size_t close = rest.find('}', 2);
        if (close == std::string_view::npos) {
            out.errors.emplace_back(
                "'${' is not closed; write '${NAME}' for an environment variable, or '$${' for a "
                "literal '${'");
            out.value += rest;
            break;
        }
        std::string name(rest.substr(2, close - 2));
        if (!is_valid_name(name)) {
            out.errors.push_back("'${" + name +
                                 "}' is not a valid environment variable reference: a name has "
                                 "letters, digits and underscores and does not start with a "
                                 "digit; write '$${' for a literal '${'");
        } else if (std::optional<std::string> value = env(name)) {
            out.value += *value;
        } else {
            out.errors.push_back("environment variable " + name +
                                 " is not set; set it, or write '$${' for a literal '${'");
        }
        i += close + 1;
    }
    return out;
}

}  // namespace pgcs::config::detail
