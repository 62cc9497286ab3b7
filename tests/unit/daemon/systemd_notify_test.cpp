#include "daemon/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using pgcs::daemon::SystemdNotifier;

namespace {

// A unix datagram socket standing in for systemd's notification socket.
struct FakeSystemd {
    std::string path = "/tmp/pgcs-notify-" + std::to_string(getpid()) + ".sock";
    int fd = -1;
    FakeSystemd() {
        unlink(path.c_str());
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        path.copy(addr.sun_path, sizeof addr.sun_path - 1);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        setenv("NOTIFY_SOCKET", path.c_str(), 1);
        setenv("WATCHDOG_USEC", "200000", 1);
        setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
    }
    ~FakeSystemd() {
        close(fd);
        unlink(path.c_str());
        unsetenv("NOTIFY_SOCKET");
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
    }
    std::vector<std::string> received() {
        std::vector<std::string> out;
        char buf[512];
        for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) {
            out.emplace_back(buf, static_cast<std::size_t>(n));
        }
        return out;
    }
};

}  // namespace

TEST_CASE("notifications reach systemd's socket") {
    FakeSystemd systemd;
    SystemdNotifier n;
    REQUIRE(n.enabled());
    CHECK(n.watchdog_interval() == std::chrono::milliseconds(200));
    n.ready();
    n.status("streaming; lag 0.1 s");
    n.stopping();
    CHECK(systemd.received() ==
          std::vector<std::string>{"READY=1", "STATUS=streaming; lag 0.1 s", "STOPPING=1"});
}

TEST_CASE("the watchdog is kicked at most once per half interval") {
    FakeSystemd systemd;
    SystemdNotifier n;
    n.kick_watchdog();
    n.kick_watchdog();
    n.kick_watchdog();
    CHECK(systemd.received() == std::vector<std::string>{"WATCHDOG=1"});
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    n.kick_watchdog();
    CHECK(systemd.received() == std::vector<std::string>{"WATCHDOG=1"});
}

TEST_CASE("without NOTIFY_SOCKET every call is a no-op") {
    unsetenv("NOTIFY_SOCKET");
    SystemdNotifier n;
    CHECK_FALSE(n.enabled());
    CHECK(n.watchdog_interval().count() == 0);
    n.ready();
    n.kick_watchdog();
}
