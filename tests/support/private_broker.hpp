// A dev broker of the test's own (pgchangeset-devbroker), so that taking it down with SIGUSR1
// disturbs no other test; SIGUSR2 brings it back.
#pragma once

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/test_env.hpp"

namespace pgcs::testing {

struct PrivateBroker {
    std::string file = "/tmp/pgcs-test-broker-" + unique_suffix();
    std::string control = file + ".control";
    std::unique_ptr<DaemonProcess> process;
    std::string address;
    explicit PrivateBroker(int brokers = 1) {
        process = std::make_unique<DaemonProcess>(
            std::vector<std::string>{bin_dir() + "/pgchangeset-devbroker", "--bootstrap-file", file,
                                     "--brokers", std::to_string(brokers), "--control-file",
                                     control},
            file + ".log");
        for (int i = 0; i < 100 && address.empty(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            std::ifstream in(file);
            std::getline(in, address);
        }
        REQUIRE_FALSE(address.empty());
    }
    pid_t pid() const { return process->pid(); }

    // Writes fault commands (see pgchangeset-devbroker --help) and has the broker apply them.
    void command(const std::string& lines) {
        std::ofstream(control) << lines << "\n";
        REQUIRE(::kill(pid(), SIGHUP) == 0);
        const std::string first = lines.substr(0, lines.find('\n'));
        for (int i = 0; i < 100; ++i) {
            if (process->log().find("control: " + first) != std::string::npos) {
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        FAIL("the dev broker did not apply '" << first << "':\n" << process->log());
    }
};

}  // namespace pgcs::testing
