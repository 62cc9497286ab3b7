// `pgchangeset status`'s view of the running daemon: whether it is halted on an event too
// large, and on which, asked of its metrics endpoint (metrics.listen).
#pragma once

#include <optional>
#include <ostream>
#include <string>

namespace pgcs::daemon {

// What a /metrics exposition says of the halt: nullopt when it has no pgchangeset_halted.
struct HaltedView {
    bool halted = false;
    std::string reason, table, topic, key;
    std::string bytes;
};
std::optional<HaltedView> parse_halted(const std::string& exposition);

// Prints "halted: yes|no|unknown (...)" and, when halted, the event's reason, table, topic, key
// and size. Returns true when the daemon is halted.
bool print_halted(const std::string& listen, std::ostream& out);

}  // namespace pgcs::daemon
