// Checks the SQL condition of an on-demand snapshot request (`snapshot --where`) before anything
// records it, and again before a chunk reads with it. The condition is pasted into each chunk's
// query as `WHERE (<condition>) AND <key range> ... LIMIT n`, so it must be one expression that
// cannot end that query early: outside string literals, quoted identifiers and dollar quotes it
// must hold no comment (`--`, `/*`), no `;`, and parentheses that balance without ever closing
// one that it did not open. A literal or quoted identifier must be closed. PostgreSQL then checks
// the expression itself (EXPLAIN, daemon/snapshot_command.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgcs::snapshot {

// What is wrong with `condition` (a sentence naming it and what to do), or std::nullopt when it
// has none of the shapes above. Assumes standard_conforming_strings (PostgreSQL's default):
// backslashes escape only in E'...' literals.
std::optional<std::string> condition_syntax_error(std::string_view condition);

}  // namespace pgcs::snapshot
