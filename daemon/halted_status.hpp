// `pgchangeset status`'s view of the running daemon: whether it is halted on an event too
// large, and on which, asked of its metrics endpoint (metrics.listen).
#pragma once

#include <ostream>
#include <string>

namespace pgcs::daemon {

// Prints "halted: yes|no|unknown (...)" and, when halted, the event's reason, table, topic, key
// and size. Returns true when the daemon is halted.
bool print_halted(const std::string& listen, std::ostream& out);

}  // namespace pgcs::daemon
