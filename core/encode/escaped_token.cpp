// The tokens array_in and hstore_in read: double-quoted, or unquoted up to a stop byte, both
// with backslash escapes. Unescaped tokens are views into the text, escaped ones into `scratch`.
#include "core/encode/escaped_token.hpp"

#include "core/encode/text_scan.hpp"

namespace pgcs::encode::detail {

bool take_quoted(std::string_view text, std::size_t& pos, std::string& scratch,
                 std::string_view& value) {
    const std::size_t start = ++pos;
    std::size_t stop = text.find_first_of("\"\\", start);
    if (stop == std::string_view::npos) {
        return false;
    }
    if (text[stop] == '"') {
        value = text.substr(start, stop - start);
        pos = stop + 1;
        return true;
    }
    scratch.assign(text.substr(start, stop - start));
    for (pos = stop; pos < text.size();) {
        char c = text[pos++];
        if (c == '"') {
            value = scratch;
            return true;
        }
        if (c == '\\') {
            if (pos == text.size()) {
                return false;
            }
            c = text[pos++];
        }
        scratch += c;
    }
    return false;
}

std::string_view take_unquoted(std::string_view text, std::size_t& pos, std::string_view stops,
                               std::string& scratch, bool& escaped) {
    const std::size_t start = pos;
    std::size_t keep = 0;  // scratch bytes up to the last escaped one: never trimmed
    escaped = false;
    while (pos < text.size() && stops.find(text[pos]) == std::string_view::npos) {
        if (text[pos] == '\\' && pos + 1 < text.size()) {
            if (!escaped) {
                scratch.assign(text.substr(start, pos - start));
                escaped = true;
            }
            scratch += text[pos + 1];
            keep = scratch.size();
            pos += 2;
            continue;
        }
        if (escaped) {
            scratch += text[pos];
        }
        ++pos;
    }
    std::string_view value = escaped ? std::string_view(scratch) : text.substr(start, pos - start);
    while (value.size() > keep && is_space(value.back())) {
        value.remove_suffix(1);
    }
    return value;
}

}  // namespace pgcs::encode::detail
