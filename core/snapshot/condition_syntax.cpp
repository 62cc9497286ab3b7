// The shape of a snapshot request's condition; see condition_syntax.hpp.
#include "core/snapshot/condition_syntax.hpp"

namespace pgcs::snapshot {
namespace {

bool identifier_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || u >= 0x80;
}

bool tag_start(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || u >= 0x80;
}

// The dollar-quote opener ("$$" or "$tag$") at `i`, or empty when there is none.
std::string_view dollar_tag(std::string_view s, std::size_t i) {
    std::size_t j = i + 1;
    if (j < s.size() && tag_start(s[j])) {
        while (j < s.size() && identifier_char(s[j]) && s[j] != '$') {
            ++j;
        }
    }
    if (j < s.size() && s[j] == '$') {
        return s.substr(i, j - i + 1);
    }
    return {};
}

}  // namespace

std::optional<std::string> condition_syntax_error(std::string_view condition) {
    // "--where '<condition>' <what>: <advice>".
    auto refuse = [&](std::string_view what) {
        std::string out = "--where '";
        out += condition;
        out += "' ";
        out += what;
        out +=
            ": give one SQL expression on the table's columns, e.g. --where \"id > 1000 AND "
            "region = 'eu'\"";
        return out;
    };
    int depth = 0;
    const std::size_t n = condition.size();
    for (std::size_t i = 0; i < n; ++i) {
        const char c = condition[i];
        const char next = i + 1 < n ? condition[i + 1] : '\0';
        if (c == '-' && next == '-') {
            return refuse("holds a comment ('--'), which would hide the rest of the query");
        }
        if (c == '/' && next == '*') {
            return refuse("holds a comment ('/*'), which would hide the rest of the query");
        }
        if (c == ';') {
            return refuse("holds ';', which would end the query");
        }
        if (c == '(') {
            ++depth;
        } else if (c == ')') {
            if (--depth < 0) {
                return refuse("closes a parenthesis it did not open");
            }
        } else if (c == '\'') {
            // E'...' (also e'...'): backslash escapes; otherwise only '' stands for a quote.
            const bool escapes = i > 0 && (condition[i - 1] == 'E' || condition[i - 1] == 'e') &&
                                 (i < 2 || !identifier_char(condition[i - 2]));
            std::size_t j = i + 1;
            for (; j < n; ++j) {
                if (escapes && condition[j] == '\\') {
                    ++j;
                } else if (condition[j] == '\'') {
                    if (j + 1 < n && condition[j + 1] == '\'') {
                        ++j;
                    } else {
                        break;
                    }
                }
            }
            if (j >= n) {
                return refuse("has a string literal (') that is not closed");
            }
            i = j;
        } else if (c == '"') {
            std::size_t j = i + 1;
            for (; j < n; ++j) {
                if (condition[j] == '"') {
                    if (j + 1 < n && condition[j + 1] == '"') {
                        ++j;
                    } else {
                        break;
                    }
                }
            }
            if (j >= n) {
                return refuse("has a quoted identifier (\") that is not closed");
            }
            i = j;
        } else if (c == '$' && (i == 0 || !identifier_char(condition[i - 1]))) {
            const std::string_view tag = dollar_tag(condition, i);
            if (!tag.empty()) {
                const std::size_t end = condition.find(tag, i + tag.size());
                if (end == std::string_view::npos) {
                    std::string what = "has a dollar-quoted string (";
                    what += tag;
                    what += ") that is not closed";
                    return refuse(what);
                }
                i = end + tag.size() - 1;
            }
        } else if (identifier_char(c)) {
            while (i + 1 < n && identifier_char(condition[i + 1])) {
                ++i;  // a name or number, '$' included: "a$b" holds no dollar quote
            }
        }
    }
    if (depth > 0) {
        return refuse("opens a parenthesis it does not close");
    }
    return std::nullopt;
}

}  // namespace pgcs::snapshot
