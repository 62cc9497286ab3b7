// classify_pg_error: whether the daemon stops with advice or reconnects, whether the connection
// is lost, and whether a snapshot chunk is read again; from the SQLSTATE alone. And reading the
// SQLSTATE out of a refused connection's verbose message, in any language.
#include "core/source/pg_error.hpp"

#include <catch2/catch.hpp>
#include <string>

using pgcs::source::classify_pg_error;
using pgcs::source::PgErrorOrigin;
using pgcs::source::sqlstate_of_connection_error;
using pgcs::source::without_location_lines;

namespace {
bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("a refused connection's SQLSTATE is read from libpq's verbose message, any language") {
    // As libpq 15 writes them with PQERRORS_VERBOSE (English, and German lc_messages).
    CHECK(sqlstate_of_connection_error(
              "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  28P01: password "
              "authentication failed for user \"cdc\"\nLOCATION:  auth_failed, auth.c:334\n") ==
          "28P01");
    CHECK(sqlstate_of_connection_error(
              "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  28P01: "
              "Passwort-Authentifizierung für Benutzer »cdc« fehlgeschlagen\n") == "28P01");
    // A translated severity (Japanese) does not matter either.
    CHECK(sqlstate_of_connection_error("サーバへの接続に失敗しました: 致命的エラー:  3D000: "
                                       "データベース\"nope\"は存在しません\n") == "3D000");
    // Several hosts: the last server answer.
    CHECK(sqlstate_of_connection_error(
              "connection to server at \"a\", port 5432 failed: Connection refused\n"
              "connection to server at \"b\", port 5432 failed: FATAL:  57P03: the database "
              "system is starting up\n") == "57P03");
    // libpq's own failures carry none.
    CHECK(sqlstate_of_connection_error(
              "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs "
              "the server running on that host and accepting TCP/IP connections?\n")
              .empty());
    CHECK(sqlstate_of_connection_error("fe_sendauth: no password supplied\n").empty());
}

TEST_CASE("the server's source position lines are left out of the message") {
    CHECK(without_location_lines("FATAL:  28P01: password authentication failed for user "
                                 "\"cdc\"\nLOCATION:  auth_failed, auth.c:334\n") ==
          "FATAL:  28P01: password authentication failed for user \"cdc\"\n");
    CHECK(without_location_lines("FATAL:  3D000: x\nORT:  InitPostgres, postinit.c:948") ==
          "FATAL:  3D000: x\n");
    CHECK(without_location_lines("ERROR:  42P01: t\nDETAIL:  a, b.c:1 is text\n") ==
          "ERROR:  42P01: t\nDETAIL:  a, b.c:1 is text\n");
}

TEST_CASE("SQLSTATEs decide, and errors without one are libpq's own and transient") {
    CHECK_FALSE(classify_pg_error("28P01", PgErrorOrigin::Connect).transient);
    CHECK(has(classify_pg_error("28P01", PgErrorOrigin::Connect).advice, "password"));
    CHECK(has(classify_pg_error("28000", PgErrorOrigin::Connect).advice, "pg_hba.conf"));
    CHECK_FALSE(classify_pg_error("3D000", PgErrorOrigin::Connect).transient);
    CHECK_FALSE(classify_pg_error("55000").transient);
    const auto undefined = classify_pg_error("42704");
    CHECK_FALSE(undefined.transient);
    CHECK(has(undefined.advice, "never creates one silently"));
    CHECK(has(undefined.advice, "postgres.create_publication"));
    CHECK(classify_pg_error("57P01").transient);
    CHECK(classify_pg_error("57P03", PgErrorOrigin::Connect).transient);
    CHECK(classify_pg_error("53300", PgErrorOrigin::Connect).transient);  // too many connections
    CHECK(classify_pg_error("55006").transient);
    CHECK(classify_pg_error("", PgErrorOrigin::Connect).transient);
    CHECK(classify_pg_error("").transient);
}

TEST_CASE("the connection is lost without a SQLSTATE, with class 08, or when it was refused") {
    CHECK(classify_pg_error("").connection_lost);
    CHECK(classify_pg_error("08006").connection_lost);
    CHECK(classify_pg_error("08P01").connection_lost);
    CHECK(classify_pg_error("28P01", PgErrorOrigin::Connect).connection_lost);
    CHECK(classify_pg_error("42501", PgErrorOrigin::ReplicationConnect).connection_lost);
    CHECK_FALSE(classify_pg_error("57P01").connection_lost);
    CHECK_FALSE(classify_pg_error("42P01").connection_lost);
    CHECK_FALSE(classify_pg_error("40001").connection_lost);
}

TEST_CASE("a statement is run again after a lost connection, an interruption or a conflict") {
    // Retried: a snapshot chunk is read again a second later.
    CHECK(classify_pg_error("").retry_statement);
    CHECK(classify_pg_error("08006").retry_statement);
    CHECK(classify_pg_error("57P01").retry_statement);
    CHECK(classify_pg_error("57014").retry_statement);
    CHECK(classify_pg_error("57P03").retry_statement);
    CHECK(classify_pg_error("40001").retry_statement);
    CHECK(classify_pg_error("40P01").retry_statement);
    // A chunk reader's connection refused for a wrong password is retried by the reader, while
    // the same failure stops the daemon (the stream's connection reports it).
    const auto password = classify_pg_error("28P01", PgErrorOrigin::Connect);
    CHECK(password.retry_statement);
    CHECK_FALSE(password.transient);
    // Not retried: the table's snapshot fails (a bad condition, the table changed, a privilege).
    CHECK_FALSE(classify_pg_error("42P01").retry_statement);
    CHECK_FALSE(classify_pg_error("42601").retry_statement);
    CHECK_FALSE(classify_pg_error("42501").retry_statement);
    CHECK_FALSE(classify_pg_error("22P02").retry_statement);
    CHECK_FALSE(classify_pg_error("40002").retry_statement);
    CHECK_FALSE(classify_pg_error("55006").retry_statement);
}

TEST_CASE("42501 means REPLICATION at the replication connection, a privilege elsewhere") {
    const auto denied = classify_pg_error("42501");
    CHECK_FALSE(denied.transient);
    CHECK(has(denied.advice, "grant the missing privilege"));
    const auto replication = classify_pg_error("42501", PgErrorOrigin::ReplicationConnect);
    CHECK_FALSE(replication.transient);
    CHECK(has(replication.advice, "ALTER ROLE <user> REPLICATION"));
    CHECK(has(replication.advice, "rds_replication"));
    const auto undefined = classify_pg_error("42P01");
    CHECK(undefined.transient);
    CHECK(undefined.advice.empty());
}

TEST_CASE("libpq's TLS refusals are configuration errors with advice and other failures are not") {
    using pgcs::source::tls_refusal_advice;
    // The messages libpq 15 wrote in tests/tls/pg_tls_test.sh, against the suite's TLS cluster.
    CHECK_THAT(tls_refusal_advice("connection to server at \"localhost\" (127.0.0.1), port 5 "
                                  "failed: SSL error: certificate verify failed"),
               Catch::Contains("sslrootcert"));
    CHECK_THAT(tls_refusal_advice("server certificate for \"localhost\" (and 1 other name) does "
                                  "not match host name \"wrong.example\""),
               Catch::Contains("host="));
    CHECK_THAT(tls_refusal_advice("server does not support SSL, but SSL was required"),
               Catch::Contains("never falls back to plaintext"));
    CHECK_THAT(tls_refusal_advice("SSL error: sslv3 alert certificate expired"),
               Catch::Contains("renew sslcert"));
    CHECK_THAT(tls_refusal_advice("SSL error: tlsv1 alert unknown ca"),
               Catch::Contains("client certificate"));
    CHECK_THAT(tls_refusal_advice("could not load private key file \"/k\": No such file"),
               Catch::Contains("sslkey"));
    CHECK(tls_refusal_advice("connection to server at \"127.0.0.1\", port 5 failed: Connection "
                             "refused") == "");
    CHECK(tls_refusal_advice("SSL SYSCALL error: EOF detected") == "");
    CHECK(tls_refusal_advice("server closed the connection unexpectedly") == "");
}
