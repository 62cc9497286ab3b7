// The keys each configuration section accepts, and the message for a key that is not one of
// them (with the closest known key as a suggestion).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace pgcs::config::detail {

// Keys of `section` ("" for the top level, "postgres", "kafka", "log"); empty if unknown.
std::span<const std::string_view> known_keys(std::string_view section);

// "unknown key; did you mean 'X'?" when a known key is close (here or in another section),
// otherwise the list of keys `section` accepts.
std::string unknown_key_message(std::string_view section, std::string_view key);

// Edit distance (with swaps of neighbouring characters), for suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace pgcs::config::detail
