// systemd's notify protocol (sd_notify): READY once streaming, STATUS lines, STOPPING, and the
// watchdog, kicked by the loop only while it makes progress. No-ops outside systemd.
// https://www.freedesktop.org/software/systemd/man/sd_notify.html
#pragma once

#include <chrono>
#include <string_view>

namespace pgcs::daemon {

class SystemdNotifier {
  public:
    SystemdNotifier();

    // NOTIFY_SOCKET is set: we run under systemd with Type=notify.
    bool enabled() const { return enabled_; }
    void ready();
    void status(std::string_view line);
    void stopping();
    // WatchdogSec= as seen through WATCHDOG_USEC; zero when the watchdog is off.
    std::chrono::microseconds watchdog_interval() const { return watchdog_; }
    // WATCHDOG=1, at most once per half interval.
    void kick_watchdog();

  private:
    bool enabled_ = false;
    std::chrono::microseconds watchdog_{0};
    std::chrono::steady_clock::time_point last_kick_{};
};

}  // namespace pgcs::daemon
