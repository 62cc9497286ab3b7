// JSON checks: RFC 8259's number grammar (float8's text), a validator for json/jsonb text, and
// the writer that embeds a json/jsonb value verbatim.
#include "core/encode/json_text.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/encode/text_scan.hpp"
#include "core/encode/utf8.hpp"
#include "core/encode/value_error.hpp"

namespace pgcs::encode::detail {
namespace {

// The JSON number grammar (RFC 8259 section 6) at pos, any magnitude.
bool take_json_number(std::string_view s, std::size_t& pos) {
    take_char(s, pos, '-');
    const std::size_t int_start = pos;
    if (!take_digits(s, pos) || (s[int_start] == '0' && pos - int_start > 1)) {
        return false;
    }
    if (take_char(s, pos, '.') && !take_digits(s, pos)) {
        return false;
    }
    if (take_char(s, pos, 'e') || take_char(s, pos, 'E')) {
        if (!take_char(s, pos, '+')) {
            take_char(s, pos, '-');
        }
        return take_digits(s, pos);
    }
    return true;
}

bool is_json_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// A JSON string at pos (its opening quote): no control characters, only JSON's escapes.
bool take_json_string(std::string_view s, std::size_t& pos) {
    for (++pos; pos < s.size();) {
        const auto c = static_cast<unsigned char>(s[pos++]);
        if (c == '"') {
            return true;
        }
        if (c < 0x20) {
            return false;
        }
        if (c == '\\') {
            if (pos == s.size()) {
                return false;
            }
            const char e = s[pos++];
            if (e == 'u') {
                if (s.size() - pos < 4) {
                    return false;
                }
                for (std::size_t end = pos + 4; pos < end; ++pos) {
                    if (kHexValue[static_cast<unsigned char>(s[pos])] < 0) {
                        return false;
                    }
                }
            } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
                return false;
            }
        }
    }
    return false;
}

// RFC 8259 syntax and UTF-8, checked iteratively so that deep nesting cannot exhaust the stack.
// Numbers of any size pass: json keeps "1e400" and jsonb prints it with 401 digits, which
// rapidjson's reader refuses (it insists on a double), so it cannot do this check.
bool is_valid_json(std::string_view s) {
    if (!is_valid_utf8(s)) {
        return false;
    }
    // One bit per open container, set for an object: 1024 levels inline, deeper on the heap.
    std::array<std::uint64_t, 16> shallow{};
    std::vector<std::uint64_t> deep;
    std::size_t depth = 0;
    const auto word = [&](std::size_t i) -> std::uint64_t& {
        return i < 1024 ? shallow[i / 64] : deep[(i - 1024) / 64];
    };
    const auto open = [&](bool object) {
        if (depth >= 1024 && (depth - 1024) / 64 >= deep.size()) {
            deep.push_back(0);
        }
        const std::uint64_t bit = std::uint64_t{1} << (depth % 64);
        word(depth) = object ? (word(depth) | bit) : (word(depth) & ~bit);
        ++depth;
    };
    const auto in_object = [&] { return (word(depth - 1) >> ((depth - 1) % 64) & 1) != 0; };

    enum class Next { Value, Key, AfterValue };
    Next next = Next::Value;
    std::size_t pos = 0;
    for (;;) {
        while (pos < s.size() && is_json_space(s[pos])) {
            ++pos;
        }
        if (next == Next::AfterValue) {
            if (depth == 0) {
                return pos == s.size();
            }
            if (take_char(s, pos, ',')) {
                next = in_object() ? Next::Key : Next::Value;
            } else if (take_char(s, pos, in_object() ? '}' : ']')) {
                --depth;
            } else {
                return false;
            }
            continue;
        }
        if (pos == s.size()) {
            return false;
        }
        if (next == Next::Key) {
            if (s[pos] != '"' || !take_json_string(s, pos)) {
                return false;
            }
            while (pos < s.size() && is_json_space(s[pos])) {
                ++pos;
            }
            if (!take_char(s, pos, ':')) {
                return false;
            }
            next = Next::Value;
            continue;
        }
        next = Next::AfterValue;
        const char c = s[pos];
        if (c == '{' || c == '[') {
            ++pos;
            while (pos < s.size() && is_json_space(s[pos])) {
                ++pos;
            }
            if (!take_char(s, pos, c == '{' ? '}' : ']')) {  // else: empty, a complete value
                open(c == '{');
                next = c == '{' ? Next::Key : Next::Value;
            }
        } else if (c == '"') {
            if (!take_json_string(s, pos)) {
                return false;
            }
        } else if (c == 't' || c == 'f' || c == 'n') {
            const std::string_view literal = c == 't' ? "true" : c == 'f' ? "false" : "null";
            if (s.substr(pos, literal.size()) != literal) {
                return false;
            }
            pos += literal.size();
        } else if (!take_json_number(s, pos)) {
            return false;
        }
    }
}

}  // namespace

// float8out's "1.5e+30", "1e-05" and "-0" are JSON numbers as they are (write_text_value writes
// "-0" as "-0.0", so that readers keep its sign).
bool is_json_number(std::string_view s) {
    std::size_t pos = 0;
    return take_json_number(s, pos) && pos == s.size();
}

void write_json(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text) {
    // json keeps its input text verbatim, surrounding whitespace included.
    while (!text.empty() && is_json_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_json_space(text.back())) {
        text.remove_suffix(1);
    }
    if (text.empty() || !is_valid_json(text)) {
        fail(type, text, "not valid JSON");
    }
    rapidjson::Type kind = rapidjson::kNumberType;
    switch (text.front()) {
        case '{':
            kind = rapidjson::kObjectType;
            break;
        case '[':
            kind = rapidjson::kArrayType;
            break;
        case '"':
            kind = rapidjson::kStringType;
            break;
        case 't':
            kind = rapidjson::kTrueType;
            break;
        case 'f':
            kind = rapidjson::kFalseType;
            break;
        case 'n':
            kind = rapidjson::kNullType;
            break;
        default:
            break;
    }
    out.RawValue(text.data(), text.size(), kind);
}

}  // namespace pgcs::encode::detail
