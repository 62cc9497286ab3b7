// sd_notify wrapper; every call is a no-op without NOTIFY_SOCKET.
#include "daemon/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace pgcs::daemon {

SystemdNotifier::SystemdNotifier() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket != nullptr && *socket != '\0';
    std::uint64_t usec = 0;
    if (enabled_ && sd_watchdog_enabled(0, &usec) > 0) {
        watchdog_ = std::chrono::microseconds(usec);
    }
}

void SystemdNotifier::ready() {
    if (enabled_) {
        sd_notify(0, "READY=1");
    }
}

void SystemdNotifier::status(std::string_view line) {
    if (enabled_) {
        const std::string message = "STATUS=" + std::string(line);
        sd_notify(0, message.c_str());
    }
}

void SystemdNotifier::stopping() {
    if (enabled_) {
        sd_notify(0, "STOPPING=1");
    }
}

void SystemdNotifier::kick_watchdog() {
    if (!enabled_ || watchdog_.count() == 0) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_kick_ < watchdog_ / 2) {
        return;
    }
    last_kick_ = now;
    sd_notify(0, "WATCHDOG=1");
}

}  // namespace pgcs::daemon
