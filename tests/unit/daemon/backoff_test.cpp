// Backoff: the reconnect delays to PostgreSQL and Kafka.
#include "daemon/backoff.hpp"

#include <catch2/catch.hpp>
#include <vector>

using pgcs::daemon::Backoff;

TEST_CASE("backoff doubles up to its cap, with jitter in the upper half, and resets") {
    Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000), 42);
    std::vector<long> ceilings{100, 200, 400, 800, 1000, 1000};
    for (long ceiling : ceilings) {
        const auto d = b.next().count();
        CHECK(d >= ceiling / 2);
        CHECK(d <= ceiling);
    }
    CHECK(b.attempts() == 6);
    b.reset();
    CHECK(b.next().count() <= 100);
    // Two seeds give different delays: the jitter is real.
    Backoff x(std::chrono::milliseconds(1000), std::chrono::milliseconds(60000), 1);
    Backoff y(std::chrono::milliseconds(1000), std::chrono::milliseconds(60000), 2);
    bool differ = false;
    for (int i = 0; i < 5; ++i) {
        differ = differ || x.next() != y.next();
    }
    CHECK(differ);
}
