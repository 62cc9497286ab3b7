// ValueFormatError's message: the type's name and a log-safe quote of the offending value.
#include "core/encode/value_error.hpp"

#include <algorithm>
#include <cstddef>

#include "core/encode/value_writer.hpp"

namespace pgcs::encode::detail {
namespace {

constexpr std::size_t kQuotedPrefix = 40;  // how much of a bad value an error message quotes

}  // namespace

std::string quote(std::string_view text) {
    std::size_t n = std::min(text.size(), kQuotedPrefix);
    while (n > 0 && n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) {
        --n;
    }
    std::string out = "\"";
    for (char c : text.substr(0, n)) {
        out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    }
    out += n < text.size() ? "...\"" : "\"";
    return out;
}

void fail(const changeset::TypeInfo& type, std::string_view text, std::string_view why) {
    throw ValueFormatError("invalid " + type.name + " value " + quote(text) + ": " +
                           std::string(why));
}

}  // namespace pgcs::encode::detail
