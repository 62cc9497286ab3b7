// Connections to PostgreSQL: normal (catalog, publication, slot) and replication (the stream).
#include "core/source/pg_connection.hpp"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <regex>

#include "core/source/stream_failure.hpp"

namespace pgcs::source {

std::string session_options() {
    return "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=iso_8601 -c extra_float_digits=3 "
           "-c bytea_output=hex -c client_encoding=UTF8";
}

std::string mask_conninfo(const std::string& conninfo) {
    // A value is quoted ('...', unterminated: to the end) or runs to white space; either may
    // hold backslash escapes (`\ ` is part of the value), as libpq reads them.
    static const std::regex kPassword(
        R"((password\s*=\s*)('(?:[^'\\]|\\[\s\S])*'?|(?:\\[\s\S]|[^\s\\])+\\?))",
        std::regex::icase);
    std::string out = std::regex_replace(conninfo, kPassword, "$1********");
    // URI form: postgresql://user:secret@host
    static const std::regex kUriPassword(R"((://[^:/@]*:)[^@]*@)");
    return std::regex_replace(out, kUriPassword, "$1********@");
}

namespace {

std::string user_options(const std::string& conninfo) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
    if (opts == nullptr) {
        std::string msg = err != nullptr ? err : "out of memory";
        PQfreemem(err);
        throw PgError("invalid postgres.conninfo: " + msg, "");
    }
    std::string found;
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
        if (std::string(o->keyword) == "options" && o->val != nullptr) {
            found = o->val;
        }
    }
    PQconninfoFree(opts);
    return found;
}

}  // namespace

PgConnPtr connect(const ConnectionSettings& settings, bool replication,
                  const std::string& target_session_attrs) {
    std::string options = user_options(settings.conninfo);
    options += (options.empty() ? "" : " ") + session_options();
    // TCP keepalives detect a dead peer; they come before dbname so that the same keys in the
    // user's conninfo win (libpq: the last value of a repeated key is used).
    std::vector<const char*> keys{"keepalives",       "keepalives_idle", "keepalives_interval",
                                  "keepalives_count", "connect_timeout", "dbname",
                                  "options",          "application_name"};
    std::vector<const char*> values{"1",
                                    "10",
                                    "5",
                                    "3",
                                    "10",
                                    settings.conninfo.c_str(),
                                    options.c_str(),
                                    settings.application_name.c_str()};
    if (!target_session_attrs.empty()) {
        keys.push_back("target_session_attrs");
        values.push_back(target_session_attrs.c_str());
    }
    if (replication) {
        keys.push_back("replication");
        values.push_back("database");
    }
    if (!settings.password.empty()) {
        keys.push_back("password");
        values.push_back(settings.password.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    // libpq keeps the SQLSTATE of a refused connection only in its message, and writes it there
    // only in verbose mode, which needs a PGconn before the connection is made: PQconnectStart
    // gives one (the attempt it begins is dropped unanswered: a server logs nothing for a
    // connection closed before its startup packet), and PQreset then connects with every
    // parameter as PQconnectdbParams would (connect_timeout, several hosts, SSL fallback).
    PgConnPtr conn(PQconnectStartParams(keys.data(), values.data(), /*expand_dbname=*/1));
    if (!conn) {
        throw PgError("cannot connect to PostgreSQL: out of memory", "");
    }
    if (PQstatus(conn.get()) != CONNECTION_BAD) {  // BAD: refused before any server answered
        PQsetErrorVerbosity(conn.get(), PQERRORS_VERBOSE);
        PQreset(conn.get());
    }
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        const std::string verbose = PQerrorMessage(conn.get());
        std::string msg = without_location_lines(verbose);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
            msg.pop_back();
        }
        const std::string where =
            "cannot connect to PostgreSQL (" + mask_conninfo(settings.conninfo) + "): " + msg;
        const std::string code = sqlstate_of_connection_error(verbose);
        if (code.empty() && PQconnectionNeedsPassword(conn.get()) != 0) {
            throw StreamFailure(where +
                                "\nwhat to do: the server asks for a password and none is "
                                "given: set it in postgres.password_file (or password= in "
                                "postgres.conninfo)");
        }
        if (const std::string advice = code.empty() ? tls_refusal_advice(msg) : "";
            !advice.empty()) {
            throw ConfigFailure(where + "\nwhat to do: " + advice);
        }
        throw PgError(where, code,
                      replication ? PgErrorOrigin::ReplicationConnect : PgErrorOrigin::Connect);
    }
    PQsetErrorVerbosity(conn.get(), PQERRORS_DEFAULT);
    // An SQL_ASCII database stores bytes without an encoding: converting them to UTF8 the
    // server refuses any byte >= 0x80 ("invalid byte sequence"), in the walsender too, so the
    // stream could never pass such a row. The bytes as stored instead; the encoder writes text
    // that is not UTF-8 as base64 (README, "not_utf8").
    if (const char* enc = PQparameterStatus(conn.get(), "server_encoding");
        enc != nullptr && std::string_view(enc) == "SQL_ASCII") {
        const PgResultPtr r(PQexec(conn.get(), "SET client_encoding TO 'SQL_ASCII'"));
        if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
            throw PgError(
                std::string("cannot set client_encoding SQL_ASCII: ") + PQerrorMessage(conn.get()),
                "");
        }
    }
    return conn;
}

namespace {
std::atomic<int> g_query_timeout_ms{30000};
}  // namespace

void set_query_timeout_ms(int timeout_ms) {
    g_query_timeout_ms = timeout_ms;
}
int query_timeout_ms() {
    return g_query_timeout_ms;
}

PgResultPtr exec_params(PGconn* conn, const std::string& sql, int count, const Oid* types,
                        const char* const* values, const int* lengths, const int* formats,
                        int timeout_ms) {
    if (timeout_ms < 0) {
        timeout_ms = g_query_timeout_ms;
    }
    auto failure = [&](const PGresult* res) {
        const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
        std::string msg = PQerrorMessage(conn);
        while (!msg.empty() && msg.back() == '\n') {
            msg.pop_back();
        }
        return PgError(msg, state != nullptr ? state : "");
    };
    if (PQsendQueryParams(conn, sql.c_str(), count, types, values, lengths, formats, 0) == 0) {
        throw failure(nullptr);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    PgResultPtr result;
    for (;;) {
        while (PQisBusy(conn) != 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deadline - std::chrono::steady_clock::now())
                                  .count();
            if (left <= 0) {
                throw PgError("no answer from PostgreSQL within " +
                                  std::to_string(timeout_ms / 1000) +
                                  " s: the server or the network is not answering",
                              "");
            }
            pollfd p{PQsocket(conn), POLLIN, 0};
            ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
            if (PQconsumeInput(conn) == 0) {
                throw failure(nullptr);
            }
        }
        PGresult* r = PQgetResult(conn);
        if (r == nullptr) {
            break;
        }
        // Keep the first error, else the last result.
        if (!result || PQresultStatus(result.get()) == PGRES_TUPLES_OK ||
            PQresultStatus(result.get()) == PGRES_COMMAND_OK) {
            result.reset(r);
        } else {
            PQclear(r);
        }
    }
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        throw failure(result.get());
    }
    return result;
}

PgResultPtr exec(PGconn* conn, const std::string& sql, const std::vector<std::string>& params,
                 int timeout_ms) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) {
        values.push_back(p.c_str());
    }
    return exec_params(conn, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                       nullptr, timeout_ms);
}

std::string quote_ident(PGconn* conn, const std::string& ident) {
    char* q = PQescapeIdentifier(conn, ident.c_str(), ident.size());
    if (q == nullptr) {
        throw PgError(std::string("cannot quote identifier: ") + PQerrorMessage(conn), "");
    }
    std::string out(q);
    PQfreemem(q);
    return out;
}

}  // namespace pgcs::source
