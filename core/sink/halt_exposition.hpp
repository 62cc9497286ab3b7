// The halt read back from the daemon's /metrics text (pgchangeset_halted and
// pgchangeset_halted_event_bytes), for `pgchangeset status`. Parsing only: no HTTP here.
#pragma once

#include <optional>
#include <string>

namespace pgcs::sink {

// What a /metrics exposition says of the halt: nullopt when it has no pgchangeset_halted.
struct HaltedView {
    bool halted = false;
    std::string reason, table, topic, key;
    std::string bytes;
};
std::optional<HaltedView> parse_halted(const std::string& exposition);

}  // namespace pgcs::sink
