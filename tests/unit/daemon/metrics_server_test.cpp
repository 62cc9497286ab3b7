#include "daemon/metrics_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"

using pgcs::daemon::Metrics;
using pgcs::daemon::MetricsServer;

namespace {

using pgcs::testing::free_port;

// A TCP connection to the loopback port; reads give up after 10 s so that a test fails
// rather than hangs.
int connect_to(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

// A minimal HTTP/1.1 client: returns the whole response.
std::string http(int port, const std::string& method, const std::string& path) {
    const int fd = connect_to(port);
    const std::string request =
        method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    REQUIRE(write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
    std::string response;
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) {
        response.append(buf, static_cast<std::size_t>(n));
    }
    close(fd);
    return response;
}

bool starts_with(const std::string& s, const std::string& p) {
    return s.rfind(p, 0) == 0;
}

}  // namespace

TEST_CASE("/metrics, /healthz and /readyz answer over HTTP") {
    Metrics metrics;
    const int port = free_port();
    MetricsServer server("127.0.0.1:" + std::to_string(port), metrics, 5.0);

    const std::string m = http(port, "GET", "/metrics");
    CHECK(starts_with(m, "HTTP/1.1 200"));
    CHECK(m.find("text/plain; version=0.0.4") != std::string::npos);
    CHECK(m.find("\npgchangeset_up 0\n") != std::string::npos);

    CHECK(starts_with(http(port, "GET", "/healthz"), "HTTP/1.1 200"));

    const std::string not_ready = http(port, "GET", "/readyz");
    CHECK(starts_with(not_ready, "HTTP/1.1 503"));
    CHECK(not_ready.find("not streaming") != std::string::npos);

    metrics.set_streaming(true);
    metrics.set_lag_seconds(1.0);
    CHECK(starts_with(http(port, "GET", "/readyz"), "HTTP/1.1 200"));
    metrics.set_lag_seconds(9.0);
    const std::string lagging = http(port, "GET", "/readyz");
    CHECK(starts_with(lagging, "HTTP/1.1 503"));
    CHECK(lagging.find("lag 9.0 s over the bound 5.0 s") != std::string::npos);
    metrics.set_lag_seconds(1.0);
    metrics.set_halted(
        {"producer_message_max_bytes", "public.t", "p.public.t", "{\"id\":2}", 5349});
    const std::string halted = http(port, "GET", "/readyz");
    CHECK(starts_with(halted, "HTTP/1.1 503"));
    CHECK(halted.find("halted (producer_message_max_bytes): an event of 5349 bytes on public.t "
                      "(key {\"id\":2})") != std::string::npos);
    metrics.clear_halted();
    CHECK(starts_with(http(port, "GET", "/readyz"), "HTTP/1.1 200"));

    CHECK(starts_with(http(port, "POST", "/metrics"), "HTTP/1.1 405"));
    CHECK(starts_with(http(port, "GET", "/nothing"), "HTTP/1.1 404"));
}

TEST_CASE("a port in use is a clear error") {
    Metrics metrics;
    const int port = free_port();
    MetricsServer first("127.0.0.1:" + std::to_string(port), metrics, 5.0);
    CHECK_THROWS_WITH(MetricsServer("127.0.0.1:" + std::to_string(port), metrics, 5.0),
                      Catch::Contains("cannot serve metrics on 127.0.0.1:" + std::to_string(port)));
}

namespace {

// The body of a response: what follows the blank line after the headers.
std::string body_of(const std::string& response) {
    const auto end = response.find("\r\n\r\n");
    REQUIRE(end != std::string::npos);
    return response.substr(end + 4);
}

std::string header_of(const std::string& response, const std::string& name) {
    const auto at = response.find("\r\n" + name + ": ");
    REQUIRE(at != std::string::npos);
    const auto from = at + name.size() + 4;
    return response.substr(from, response.find("\r\n", from) - from);
}

}  // namespace

TEST_CASE("HEAD sends the headers GET would send and no body") {
    Metrics metrics;
    const int port = free_port();
    MetricsServer server("127.0.0.1:" + std::to_string(port), metrics, 5.0);

    for (const char* path : {"/metrics", "/healthz", "/readyz"}) {
        INFO(path);
        const std::string get = http(port, "GET", path);
        const std::string head = http(port, "HEAD", path);
        CHECK(head.substr(0, 12) == get.substr(0, 12));  // the same status
        CHECK_FALSE(body_of(get).empty());
        CHECK(body_of(head).empty());
        CHECK(header_of(head, "Content-Length") == std::to_string(body_of(get).size()));
        CHECK(header_of(head, "Content-Type") == header_of(get, "Content-Type"));
    }
    CHECK(starts_with(http(port, "HEAD", "/readyz"), "HTTP/1.1 503"));
}

TEST_CASE("an IPv6 address is refused with the reason: Debian's civetweb has no IPv6") {
    Metrics metrics;
    CHECK_THROWS_WITH(MetricsServer("[::1]:" + std::to_string(free_port()), metrics, 5.0),
                      Catch::Contains("(metrics.listen): this build of civetweb has no IPv6") &&
                          Catch::Contains("127.0.0.1:9187"));
}

TEST_CASE("50 idle or stalled clients do not keep /healthz, /readyz and /metrics from answering") {
    Metrics metrics;
    metrics.set_streaming(true);
    const int port = free_port();
    MetricsServer server("127.0.0.1:" + std::to_string(port), metrics, 5.0);

    // 25 connect and send nothing; 25 send half a request line and stall.
    std::vector<int> slow;
    for (int i = 0; i < 50; ++i) {
        slow.push_back(connect_to(port));
        if (i % 2 == 1) {
            const std::string half = "GET /metr";
            REQUIRE(write(slow.back(), half.data(), half.size()) ==
                    static_cast<ssize_t>(half.size()));
        }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // all 50 taken by the server

    for (const char* path : {"/healthz", "/readyz", "/metrics"}) {
        INFO(path);
        const auto start = std::chrono::steady_clock::now();
        const std::string response = http(port, "GET", path);
        const auto took = std::chrono::steady_clock::now() - start;
        CHECK(starts_with(response, "HTTP/1.1 200"));
        CHECK(took < std::chrono::seconds(2));
    }

    // The request timeout (2 s for the whole request) then closes every stalled connection.
    const auto start = std::chrono::steady_clock::now();
    for (const int fd : slow) {
        char buf[512];
        ssize_t n = 0;
        while ((n = read(fd, buf, sizeof buf)) > 0) {
        }
        CHECK(n == 0);  // closed by the server, not our 10 s read timeout
        close(fd);
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
}

TEST_CASE("a client trickling its request a byte at a time is cut off after 2 s") {
    Metrics metrics;
    const int port = free_port();
    MetricsServer server("127.0.0.1:" + std::to_string(port), metrics, 5.0);
    const int fd = connect_to(port);
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    const auto start = std::chrono::steady_clock::now();
    // One byte every 250 ms: the whole line would take 10 s. Stop when the server has closed
    // the connection (a write fails) or after 5 s.
    for (std::size_t i = 0; i < request.size(); ++i) {
        if (send(fd, &request[i], 1, MSG_NOSIGNAL) != 1 ||
            std::chrono::steady_clock::now() - start > std::chrono::seconds(5)) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    char buf[512];
    ssize_t n = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
    }
    CHECK((n == 0 || errno == ECONNRESET));  // closed by the server, not our read timeout
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
    close(fd);
}
