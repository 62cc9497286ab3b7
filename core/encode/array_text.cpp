// Arrays: array_out's text -> a JSON array nested per dimension, each element written by
// write_text_value as its element type prescribes. Escaped elements share one scratch string.
#include "core/encode/array_text.hpp"

#include <cstddef>
#include <string>

#include "core/encode/escaped_token.hpp"
#include "core/encode/text_scan.hpp"
#include "core/encode/value_error.hpp"

namespace pgcs::encode::detail {
namespace {

using changeset::TypeInfo;
using changeset::TypeRegistry;
using changeset::ValueKind;

const TypeInfo& unknown_element() {
    static const TypeInfo type{0, "unknown", ValueKind::String, 0, ','};
    return type;
}

// array_out's text: optional "[lo:hi]..." bounds and '=', then braces nested per dimension.
// An element is quoted when it is empty, holds the delimiter, a brace, a quote, a backslash or
// whitespace, or spells NULL in any case; an unquoted NULL is SQL NULL.
class ArrayText {
  public:
    ArrayText(JsonWriter& out, const TypeRegistry& registry, const TypeInfo& type,
              std::string_view text)
        : out_(out), registry_(registry), type_(type), text_(text) {
        const TypeInfo* element = registry.find(type.element_oid);
        element_ = element != nullptr ? element : &unknown_element();
    }

    void write() {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == '[') {
            // Printed when some lower bound is not 1: "[0:1][2:3]={{1,2},{3,4}}".
            while (pos_ < text_.size() && text_[pos_] != '=') {
                const char c = text_[pos_++];
                if (!is_digit(c) && c != '[' && c != ']' && c != ':' && c != '-') {
                    bad("malformed dimension bounds");
                }
            }
            if (!take_char(text_, pos_, '=')) {
                bad("malformed dimension bounds");
            }
            skip_space();
        }
        write_dimension(1);
        skip_space();
        if (pos_ != text_.size()) {
            bad("text after the closing brace");
        }
    }

  private:
    static constexpr int kMaxDimensions = 6;  // PostgreSQL's MAXDIM

    void write_dimension(int depth) {
        if (depth > kMaxDimensions) {
            bad("more than 6 dimensions");
        }
        if (!take_char(text_, pos_, '{')) {
            bad("expected '{'");
        }
        out_.StartArray();
        skip_space();
        if (take_char(text_, pos_, '}')) {
            out_.EndArray();
            return;
        }
        for (;;) {
            skip_space();
            if (pos_ < text_.size() && text_[pos_] == '{') {
                if (element_depth_ != 0 && element_depth_ <= depth) {
                    bad("elements and sub-arrays mixed");
                }
                write_dimension(depth + 1);
            } else {
                if (element_depth_ != 0 && element_depth_ != depth) {
                    bad("elements and sub-arrays mixed");
                }
                element_depth_ = depth;
                write_element();
            }
            skip_space();
            if (take_char(text_, pos_, '}')) {
                break;
            }
            if (!take_char(text_, pos_, type_.delimiter)) {
                bad("expected the delimiter or '}'");
            }
        }
        out_.EndArray();
    }

    void write_element() {
        std::string_view value;
        if (pos_ < text_.size() && text_[pos_] == '"') {
            if (!take_quoted(text_, pos_, scratch_, value)) {
                bad("unterminated quoted element");
            }
        } else {
            const char stops[] = {type_.delimiter, '}', '{', '"'};
            bool escaped = false;
            value = take_unquoted(text_, pos_, std::string_view(stops, sizeof stops), scratch_,
                                  escaped);
            if (value.empty() ||
                (pos_ < text_.size() && text_[pos_] != type_.delimiter && text_[pos_] != '}')) {
                bad("malformed unquoted element");
            }
            if (!escaped && equals_ignore_case(value, "null")) {
                out_.Null();
                return;
            }
        }
        try {
            write_text_value(out_, registry_, *element_, value);
        } catch (const ValueFormatError& e) {
            throw ValueFormatError(std::string(e.what()) + ", in " + type_.name + " value " +
                                   quote(text_));
        }
    }

    void skip_space() {
        while (pos_ < text_.size() && is_space(text_[pos_])) {
            ++pos_;
        }
    }

    [[noreturn]] void bad(std::string_view why) const { fail(type_, text_, why); }

    JsonWriter& out_;
    const TypeRegistry& registry_;
    const TypeInfo& type_;
    const TypeInfo* element_ = nullptr;
    std::string_view text_;
    std::size_t pos_ = 0;
    int element_depth_ = 0;  // the depth at which elements (not sub-arrays) sit
    std::string scratch_;    // unescaped element text, reused across elements
};

}  // namespace

void write_array(JsonWriter& out, const changeset::TypeRegistry& registry,
                 const changeset::TypeInfo& type, std::string_view text) {
    ArrayText(out, registry, type, text).write();
}

}  // namespace pgcs::encode::detail
