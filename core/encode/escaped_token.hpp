// The tokens array_in and hstore_in read: double-quoted, or unquoted up to a stop byte, both
// with backslash escapes. Unescaped tokens are views into the text, escaped ones into `scratch`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pgcs::encode::detail {

// A double-quoted token at pos (the opening quote) with \" and \\ (any \x) escapes. The value
// is a view into `text` when nothing was escaped, else into `scratch`. False when unterminated.
bool take_quoted(std::string_view text, std::size_t& pos, std::string& scratch,
                 std::string_view& value);

// An unquoted token at pos, up to a byte in `stops` (or the end); backslash escapes as
// array_in and hstore_in take them; trailing whitespace that was not escaped is dropped.
// `escaped` tells whether an escape was seen (an escaped NULL is no null).
std::string_view take_unquoted(std::string_view text, std::size_t& pos, std::string_view stops,
                               std::string& scratch, bool& escaped);

}  // namespace pgcs::encode::detail
