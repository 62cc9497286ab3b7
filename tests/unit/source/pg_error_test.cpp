// classify_pg_error: whether the daemon stops with advice or reconnects, whether the connection
// is lost, and whether a snapshot chunk is read again.
#include "core/source/pg_error.hpp"

#include <catch2/catch.hpp>
#include <string>

using pgcs::source::classify_pg_error;

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

TEST_CASE("the connection is lost without a SQLSTATE or with class 08, not otherwise") {
    CHECK(classify_pg_error("", "server closed the connection unexpectedly").connection_lost);
    CHECK(classify_pg_error("08006", "connection failure").connection_lost);
    CHECK(classify_pg_error("08P01", "protocol violation").connection_lost);
    CHECK_FALSE(classify_pg_error("57P01", "terminating connection due to administrator command")
                    .connection_lost);
    CHECK_FALSE(classify_pg_error("42P01", "relation \"t\" does not exist").connection_lost);
    CHECK_FALSE(classify_pg_error("40001", "could not serialize access").connection_lost);
}

TEST_CASE("a statement is run again after a lost connection, an interruption or a conflict") {
    // Retried: a snapshot chunk is read again a second later.
    CHECK(classify_pg_error("", "server closed the connection unexpectedly").retry_statement);
    CHECK(classify_pg_error("08006", "connection failure").retry_statement);
    CHECK(classify_pg_error("57P01", "terminating connection due to administrator command")
              .retry_statement);
    CHECK(
        classify_pg_error("57014", "canceling statement due to statement timeout").retry_statement);
    CHECK(classify_pg_error("57P03", "the database system is starting up").retry_statement);
    CHECK(classify_pg_error("40001", "could not serialize access due to concurrent update")
              .retry_statement);
    CHECK(classify_pg_error("40P01", "deadlock detected").retry_statement);
    // By the SQLSTATE alone: a connection refused for a wrong password is retried by the chunk
    // reader, while the same failure stops the daemon (the stream's connection reports it).
    const auto password =
        classify_pg_error("", "FATAL:  password authentication failed for user \"cdc\"");
    CHECK(password.retry_statement);
    CHECK_FALSE(password.transient);
    // Not retried: the table's snapshot fails (a bad condition, the table changed, a privilege).
    CHECK_FALSE(classify_pg_error("42P01", "relation \"t\" does not exist").retry_statement);
    CHECK_FALSE(classify_pg_error("42601", "syntax error at or near \")\"").retry_statement);
    CHECK_FALSE(classify_pg_error("42501", "permission denied for table t").retry_statement);
    CHECK_FALSE(
        classify_pg_error("22P02", "invalid input syntax for type integer").retry_statement);
    CHECK_FALSE(classify_pg_error("40002", "integrity constraint violation").retry_statement);
    CHECK_FALSE(classify_pg_error("55006", "replication slot \"s\" is active").retry_statement);
}

TEST_CASE("a failure the daemon stops for also names what to do, a transient one does not") {
    const auto denied = classify_pg_error("42501", "permission denied for table t");
    CHECK_FALSE(denied.transient);
    CHECK(denied.advice.find("grant the missing privilege") != std::string::npos);
    const auto replication =
        classify_pg_error("42501", "must be superuser or replication role to start walsender");
    CHECK(replication.advice.find("ALTER ROLE <user> REPLICATION") != std::string::npos);
    const auto undefined = classify_pg_error("42P01", "relation \"t\" does not exist");
    CHECK(undefined.transient);
    CHECK(undefined.advice.empty());
}
