// hstore values: hstore_out's text -> a JSON object of string (or null) values.
#include "core/encode/hstore_text.hpp"

#include <cstddef>
#include <string>

#include "core/encode/escaped_token.hpp"
#include "core/encode/text_scan.hpp"
#include "core/encode/utf8.hpp"
#include "core/encode/value_error.hpp"

namespace pgcs::encode::detail {

// hstore_out's text: "key"=>"value" pairs separated by ", ", NULL (unquoted) for a null value,
// \" and \\ escaped inside quotes; hstore_in also takes unquoted tokens, written here too.
void write_hstore(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text) {
    std::string scratch;
    std::size_t pos = 0;
    const auto skip_space = [&] {
        while (pos < text.size() && is_space(text[pos])) {
            ++pos;
        }
    };
    // A key or value; `plain` when unquoted and unescaped (only such a value can be NULL).
    const auto take_token = [&](std::string_view stops, bool& plain) {
        std::string_view token;
        plain = false;
        if (pos < text.size() && text[pos] == '"') {
            if (!take_quoted(text, pos, scratch, token)) {
                fail(type, text, "unterminated quoted string");
            }
            return token;
        }
        bool escaped = false;
        token = take_unquoted(text, pos, stops, scratch, escaped);
        if (token.empty()) {
            fail(type, text, "expected a key or value");
        }
        plain = !escaped;
        return token;
    };
    out.StartObject();
    skip_space();
    while (pos < text.size()) {
        bool plain = false;
        const std::string_view key = take_token(" \t\n\r\v\f,=\"", plain);
        if (!is_valid_utf8(key)) {
            fail(type, text, "not valid UTF-8 (the connection's client_encoding must be UTF8)");
        }
        out.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
        skip_space();
        if (text.substr(pos, 2) != "=>") {
            fail(type, text, "expected =>");
        }
        pos += 2;
        skip_space();
        const std::string_view value = take_token(" \t\n\r\v\f,\"", plain);
        if (plain && equals_ignore_case(value, "null")) {
            out.Null();
        } else {
            write_string(out, type, value);
        }
        skip_space();
        if (pos == text.size()) {
            break;
        }
        if (!take_char(text, pos, ',')) {
            fail(type, text, "expected ', ' between pairs");
        }
        skip_space();
        if (pos == text.size()) {
            fail(type, text, "a ',' with no pair after it");
        }
    }
    out.EndObject();
}

}  // namespace pgcs::encode::detail
