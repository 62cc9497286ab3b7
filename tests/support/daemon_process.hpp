// Runs build/bin/pgchangeset as a child process with a config written for the test; its log
// goes to a file the test can read (and that is printed when a check fails).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/test_env.hpp"

namespace pgcs::testing {

// How many times `part` stands in `text` (a daemon's log, say).
inline std::size_t occurrences(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) {
        ++n;
    }
    return n;
}

inline std::string write_temp_file(const std::string& name, const std::string& content) {
    const std::string path = "/tmp/pgcs-test-" + unique_suffix() + "-" + name;
    std::ofstream(path) << content;
    return path;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct RunResult {
    int exit_code = -1;  // -1: killed by a signal
    std::string log;
};

class DaemonProcess {
  public:
    DaemonProcess(std::vector<std::string> args, std::string log_path)
        : log_path_(std::move(log_path)) {
        const pid_t parent = getpid();
        pid_ = fork();
        if (pid_ < 0) {
            throw std::runtime_error("fork failed");
        }
        if (pid_ == 0) {
            // A test that aborts leaves no daemon behind holding its slot.
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) {
                _exit(127);
            }
            const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            dup2(fd, 1);
            dup2(fd, 2);
            std::vector<char*> argv;
            for (auto& a : args) {
                argv.push_back(a.data());
            }
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
    }

    ~DaemonProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    // Sends `sig` and waits up to `timeout` for the exit.
    RunResult stop(int sig = SIGTERM, std::chrono::seconds timeout = std::chrono::seconds(60)) {
        if (pid_ > 0) {
            kill(pid_, sig);
        }
        return wait(timeout);
    }

    // Waits for the process to exit on its own.
    RunResult wait(std::chrono::seconds timeout = std::chrono::seconds(60)) {
        RunResult r;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (pid_ > 0) {
            if (reap()) {
                r.exit_code = exit_code_;
                break;
            }
            if (std::chrono::steady_clock::now() > deadline) {
                kill(pid_, SIGKILL);
                waitpid(pid_, nullptr, 0);
                pid_ = 0;
                r.exit_code = -2;  // hung
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (pid_ == 0 && r.exit_code == -1) {
            r.exit_code = exit_code_;
        }
        r.log = log();
        return r;
    }

    bool running() { return pid_ > 0 && !reap(); }

    // A line of /proc/<pid>/status as kB, e.g. "VmHWM" (peak RSS); -1 when unavailable.
    long status_kb(const std::string& field) const {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
        for (std::string line; std::getline(in, line);) {
            if (line.rfind(field + ":", 0) == 0) {
                return std::stol(line.substr(field.size() + 1));
            }
        }
        return -1;
    }
    pid_t pid() const { return pid_; }
    std::string log() const { return read_file(log_path_); }

  private:
    // Collects the exit status if the child has exited.
    bool reap() {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) != pid_) {
            return false;
        }
        pid_ = 0;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return true;
    }

    int exit_code_ = -1;
    pid_t pid_ = 0;
    std::string log_path_;
};

}  // namespace pgcs::testing
