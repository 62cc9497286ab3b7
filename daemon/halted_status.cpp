// A small HTTP GET of the daemon's own /metrics (2 s bound) and the parse of its halt samples.
#include "daemon/halted_status.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "core/base/unique_fd.hpp"

namespace pgcs::daemon {

namespace {

// The label `name`'s value in a sample line, unescaped ("" when absent).
std::string label(const std::string& line, const std::string& name) {
    const std::string start = name + "=\"";
    auto pos = line.find(start);
    if (pos == std::string::npos) {
        return "";
    }
    std::string out;
    for (pos += start.size(); pos < line.size() && line[pos] != '"'; ++pos) {
        if (line[pos] == '\\' && pos + 1 < line.size()) {
            ++pos;
            out += line[pos] == 'n' ? '\n' : line[pos];
        } else {
            out += line[pos];
        }
    }
    return out;
}

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

std::optional<HaltedView> parse_halted(const std::string& exposition) {
    std::optional<HaltedView> view;
    std::size_t pos = 0;
    while (pos < exposition.size()) {
        auto end = exposition.find('\n', pos);
        if (end == std::string::npos) {
            end = exposition.size();
        }
        const std::string line = exposition.substr(pos, end - pos);
        pos = end + 1;
        if (line.rfind("pgchangeset_halted ", 0) == 0) {
            view.emplace().halted = line.substr(19) == "1";
        } else if (line.rfind("pgchangeset_halted_event_bytes{", 0) == 0 && view) {
            view->reason = label(line, "reason");
            view->table = label(line, "table");
            view->topic = label(line, "topic");
            view->key = label(line, "key");
            view->bytes = line.substr(line.rfind(' ') + 1);
        }
    }
    return view;
}

bool print_halted(const std::string& listen, std::ostream& out) {
    if (listen.empty()) {
        out << "halted: unknown (metrics.listen is not set: status asks the running daemon "
               "over it)\n";
        return false;
    }
    const std::optional<HaltedView> view = parse_halted(get_metrics(listen));
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
