// A dev broker of the test's own (pgchangeset-devbroker), so that taking it down with SIGUSR1
// disturbs no other test; SIGUSR2 brings it back.
#pragma once

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
    std::unique_ptr<DaemonProcess> process;
    std::string address;
    PrivateBroker() {
        process = std::make_unique<DaemonProcess>(
            std::vector<std::string>{bin_dir() + "/pgchangeset-devbroker", "--bootstrap-file",
                                     file},
            file + ".log");
        for (int i = 0; i < 100 && address.empty(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            std::ifstream in(file);
            std::getline(in, address);
        }
        REQUIRE_FALSE(address.empty());
    }
    pid_t pid() const { return process->pid(); }
};

}  // namespace pgcs::testing
