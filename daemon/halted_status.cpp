// A small HTTP GET of the daemon's own /metrics (2 s bound); core/sink/halt_exposition parses it.
#include "daemon/halted_status.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "core/base/unique_fd.hpp"
#include "core/sink/halt_exposition.hpp"

namespace pgcs::daemon {

namespace {

// GET /metrics from host:port; "" when nothing answered in time.
std::string get_metrics(const std::string& listen) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        return "";
    }
    std::string host = listen.substr(0, colon);
    if (host.empty() || host == "0.0.0.0") {
        host = "127.0.0.1";
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), listen.substr(colon + 1).c_str(), &hints, &found) != 0) {
        return "";
    }
    base::UniqueFd fd(socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const bool connected =
        fd.get() >= 0 && connect(fd.get(), found->ai_addr, found->ai_addrlen) == 0;
    freeaddrinfo(found);
    if (!connected) {
        return "";
    }
    const std::string request =
        "GET /metrics HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    if (write(fd.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
        return "";
    }
    std::string response;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    char buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        pollfd p{fd.get(), POLLIN, 0};
        if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
            return "";
        }
        const ssize_t n = read(fd.get(), buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        response.append(buf, static_cast<std::size_t>(n));
    }
    return response;
}

}  // namespace

bool print_halted(const std::string& listen, std::ostream& out) {
    if (listen.empty()) {
        out << "halted: unknown (metrics.listen is not set: status asks the running daemon "
               "over it)\n";
        return false;
    }
    const std::optional<sink::HaltedView> view = sink::parse_halted(get_metrics(listen));
    if (!view) {
        out << "halted: unknown (no daemon answered on " << listen << ")\n";
        return false;
    }
    if (!view->halted) {
        out << "halted: no\n";
        return false;
    }
    out << "halted: yes\n"
        << "halted_reason: " << view->reason << "\n"
        << "halted_table: " << view->table << "\n"
        << "halted_topic: " << view->topic << "\n"
        << "halted_key: " << (view->key.empty() ? "null" : view->key) << "\n"
        << "halted_event_bytes: " << view->bytes << "\n"
        << "problem: the daemon is halted on an event too large for Kafka (its log says what "
           "to do); it tries that transaction again every reconnect.halted_retry_ms\n";
    return true;
}

}  // namespace pgcs::daemon
