// Under systemd and Prometheus: metrics scraped during a run, and the watchdog kicked only
// while the loop makes progress.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "support/capture_fixture.hpp"
#include "support/http_client.hpp"
#include "support/private_broker.hpp"

using namespace pgcs::testing;

namespace {

// The value of one sample line "name{labels} value" in a Prometheus exposition, or -1.
double sample(const std::string& text, const std::string& name_and_labels) {
    const std::string needle = "\n" + name_and_labels + " ";
    const auto pos = text.find(needle);
    return pos == std::string::npos ? -1 : std::stod(text.substr(pos + needle.size()));
}

// systemd's notification socket, played by the test.
struct NotifySocket {
    std::string path = "/tmp/pgcs-test-notify-" + unique_suffix();
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    NotifySocket() {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        path.copy(addr.sun_path, sizeof addr.sun_path - 1);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ~NotifySocket() {
        close(fd);
        unlink(path.c_str());
    }
    // Every datagram received in the next `wait`.
    std::vector<std::string> collect(std::chrono::milliseconds wait) {
        std::vector<std::string> out;
        const auto until = std::chrono::steady_clock::now() + wait;
        char buf[1024];
        while (std::chrono::steady_clock::now() < until) {
            const ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                out.emplace_back(buf, static_cast<std::size_t>(n));
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        return out;
    }
};

std::size_t count(const std::vector<std::string>& v, const std::string& s) {
    return static_cast<std::size_t>(std::count(v.begin(), v.end(), s));
}

}  // namespace

TEST_CASE("metrics and readiness are served during a run") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    const int port = free_port();
    fx.extra_config = "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n";
    fx.start_daemon();
    fx.exec("INSERT INTO {table} SELECT generate_series(1, 5)");
    fx.exec("DELETE FROM {table} WHERE id <= 2");
    REQUIRE(fx.read(9).size() == 9);  // and the deletes' tombstones
    const std::string table = "public." + fx.table();
    std::string text;
    for (int i = 0; i < 50; ++i) {  // the loop publishes its gauges once a second
        text = http_get(port, "/metrics");
        if (sample(text, "pgchangeset_kafka_inflight") == 0 &&
            sample(text, "pgchangeset_up") == 1) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO(text << fx.daemon_log());
    CHECK(sample(text, "pgchangeset_events_total{op=\"added\",table=\"" + table + "\"}") == 5);
    CHECK(sample(text, "pgchangeset_events_total{op=\"deleted\",table=\"" + table + "\"}") == 2);
    CHECK(sample(text, "pgchangeset_bytes_total") > 0);
    CHECK(sample(text, "pgchangeset_up") == 1);
    CHECK(sample(text, "pgchangeset_kafka_inflight") == 0);
    CHECK(sample(text, "pgchangeset_lag_seconds") >= 0);
    CHECK(sample(text, "pgchangeset_reconnects_total{target=\"postgres\"}") == 0);
    CHECK(http_get(port, "/healthz").rfind("HTTP/1.1 200", 0) == 0);
    CHECK(http_get(port, "/readyz").rfind("HTTP/1.1 200", 0) == 0);
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("READY once streaming, the watchdog is not kicked while Kafka holds events",
          "[devbroker-only]") {
    PrivateBroker broker;
    NotifySocket notify;
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY)");
    fx.brokers_override = broker.address;
    setenv("NOTIFY_SOCKET", notify.path.c_str(), 1);
    setenv("WATCHDOG_USEC", "1000000", 1);
    fx.start_daemon();
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    auto first = notify.collect(std::chrono::milliseconds(1500));
    INFO(fx.daemon_log());
    CHECK(count(first, "READY=1") == 1);
    CHECK(count(first, "WATCHDOG=1") >= 1);  // idle and healthy: kicked

    REQUIRE(kill(broker.pid(), SIGUSR1) == 0);  // every broker down
    fx.exec("INSERT INTO {table} SELECT generate_series(1, 10)");
    notify.collect(std::chrono::milliseconds(1200));  // kicks already due may still arrive
    auto stuck = notify.collect(std::chrono::milliseconds(3000));
    CHECK(count(stuck, "WATCHDOG=1") == 0);

    REQUIRE(kill(broker.pid(), SIGUSR2) == 0);  // back up: events delivered, kicks resume
    // librdkafka reconnects with a backoff that grows while the broker is down (up to
    // reconnect.backoff.max.ms, 10 s): on a loaded machine delivery can take some seconds.
    std::size_t resumed_kicks = 0;
    for (int i = 0; i < 15 && resumed_kicks == 0; ++i) {
        resumed_kicks = count(notify.collect(std::chrono::milliseconds(1000)), "WATCHDOG=1");
    }
    CHECK(resumed_kicks >= 1);
    auto r = fx.stop_daemon();
    CHECK(r.exit_code == 0);
    auto last = notify.collect(std::chrono::milliseconds(200));
    CHECK(count(last, "STOPPING=1") == 1);
}
