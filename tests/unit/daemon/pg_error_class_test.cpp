#include "daemon/pg_error_class.hpp"

#include <catch2/catch.hpp>

#include "daemon/backoff.hpp"

using pgcs::daemon::Backoff;
using pgcs::daemon::classify_pg_error;

TEST_CASE("connection failures without SQLSTATE are classified by their message") {
    CHECK_FALSE(classify_pg_error("",
                                  "connection to server at \"127.0.0.1\", port 5432 failed: "
                                  "FATAL:  password authentication failed for user \"cdc\"")
                    .transient);
    CHECK(classify_pg_error("", "FATAL:  password authentication failed for user \"cdc\"")
              .advice.find("password") != std::string::npos);
    CHECK_FALSE(classify_pg_error("", "FATAL:  database \"nope\" does not exist").transient);
    CHECK_FALSE(classify_pg_error("",
                                  "FATAL:  must be superuser or replication role to start "
                                  "walsender")
                    .transient);
    CHECK(classify_pg_error("",
                            "connection to server at \"127.0.0.1\", port 1 failed: "
                            "Connection refused")
              .transient);
    CHECK(classify_pg_error("", "FATAL:  the database system is starting up").transient);
    CHECK(classify_pg_error("", "FATAL:  the database system is shutting down").transient);
    CHECK(classify_pg_error("", "server closed the connection unexpectedly").transient);
}

TEST_CASE("SQLSTATEs decide when PostgreSQL sends one") {
    CHECK_FALSE(classify_pg_error("28P01", "whatever").transient);
    CHECK_FALSE(classify_pg_error("3D000", "database \"x\" does not exist").transient);
    CHECK_FALSE(
        classify_pg_error("55000", "logical decoding requires wal_level >= logical").transient);
    const auto dropped = classify_pg_error("42704", "replication slot \"s\" does not exist");
    CHECK_FALSE(dropped.transient);
    CHECK(dropped.advice.find("never creates one silently") != std::string::npos);
    CHECK(classify_pg_error("57P01", "terminating connection due to administrator command")
              .transient);
    CHECK(classify_pg_error("57P03", "the database system is starting up").transient);
    CHECK(classify_pg_error("55006", "replication slot \"s\" is active for PID 42").transient);
}

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
