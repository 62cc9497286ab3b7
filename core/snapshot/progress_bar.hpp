// The snapshot's progress bar on a terminal (snapshot.mode initial_only): the rows read of the
// rows estimated, and the tables left.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pgcs::snapshot {

// "snapshot [######...] 24%  1200 rows, 2 tables left" (no total: 0% until no table is left).
std::string progress_bar(std::int64_t done, std::int64_t total, std::size_t tables_left);

}  // namespace pgcs::snapshot
