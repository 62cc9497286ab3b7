// Bounds a snapshot's work: every chunk of a table must move its key range forward, and a chunk
// read with a row limit must not return more rows than that. A chunk that breaks either (its
// query did not mean what it was built to mean) fails the table's snapshot instead of being read
// again for ever.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace pgcs::snapshot {

struct ChunkOutcome {
    bool keyed = true;                  // read in key order (not by ranges of heap blocks)
    std::vector<std::string> after;     // the key the chunk started after (empty: the first)
    std::vector<std::string> last_key;  // the key the next chunk starts after
    bool last = false;                  // the table's last chunk
    std::size_t rows = 0;               // rows it returned
    int limit = 0;  // its row limit in key order (0: bounded by a key range instead; a keyless
                    // table's ranges of blocks hold about, not at most, that many rows)
};

// What is wrong with the chunk (a sentence), or std::nullopt when it made progress.
inline std::optional<std::string> chunk_progress_error(const ChunkOutcome& c) {
    if (c.keyed && c.limit > 0 && c.rows > static_cast<std::size_t>(c.limit)) {
        return "a chunk returned " + std::to_string(c.rows) + " rows, more than its limit of " +
               std::to_string(c.limit) + ": its query did not keep the key range and row limit";
    }
    if (c.keyed && !c.last && c.last_key == c.after) {
        return "a chunk returned " + std::to_string(c.rows) +
               " rows but did not move past the key it started after: reading on would read the "
               "same rows for ever";
    }
    return std::nullopt;
}

}  // namespace pgcs::snapshot
