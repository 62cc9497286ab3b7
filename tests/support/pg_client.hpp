// A plain libpq session for tests: run SQL, read one value, wait for a condition.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace pgcs::testing {

class PgClient {
  public:
    explicit PgClient(const std::string& conninfo)
        : conn_(PQconnectdb(conninfo.c_str()), &PQfinish) {
        if (PQstatus(conn_.get()) != CONNECTION_OK) {
            throw std::runtime_error(std::string("test cannot connect to PostgreSQL: ") +
                                     PQerrorMessage(conn_.get()));
        }
        // NOTICEs (e.g. DROP ... IF EXISTS of a missing object) are not test output.
        PQsetNoticeProcessor(
            conn_.get(), [](void*, const char*) {}, nullptr);
    }

    void exec(const std::string& sql) {
        auto r = run(sql);
        const auto st = PQresultStatus(r.get());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            throw std::runtime_error("SQL failed: " + sql + ": " + PQerrorMessage(conn_.get()));
        }
    }

    // Runs `sql`; returns PostgreSQL's error message, or "" when it succeeded. For callers that
    // handle failures themselves (writers that roll back, an applier with long batches).
    std::string try_exec(const std::string& sql) {
        auto r = run(sql);
        const auto st = PQresultStatus(r.get());
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            return "";
        }
        const std::string message = PQerrorMessage(conn_.get());
        return message.empty() ? "failed without a message" : message;
    }

    // The first column of the first row, or "" when there is no row / it is NULL.
    std::string value(const std::string& sql) {
        auto r = run(sql);
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
            throw std::runtime_error("SQL failed: " + sql + ": " + PQerrorMessage(conn_.get()));
        }
        if (PQntuples(r.get()) == 0 || PQgetisnull(r.get(), 0, 0)) {
            return "";
        }
        return PQgetvalue(r.get(), 0, 0);
    }

    // Polls `sql` every `every` until `pred(value)` holds or `timeout` passes; returns whether
    // it held.
    bool wait_for(const std::string& sql, const std::function<bool(const std::string&)>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30),
                  std::chrono::milliseconds every = std::chrono::milliseconds(100)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (pred(value(sql))) {
                return true;
            }
            std::this_thread::sleep_for(every);
        }
        return false;
    }

  private:
    // Runs `sql`; once more on a fresh connection when the server dropped this one (the fault
    // tests restart PostgreSQL under long-lived clients).
    std::unique_ptr<PGresult, decltype(&PQclear)> run(const std::string& sql) {
        std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn_.get(), sql.c_str()), &PQclear);
        if (PQstatus(conn_.get()) == CONNECTION_BAD) {
            for (int attempt = 0; attempt < 300 && PQstatus(conn_.get()) != CONNECTION_OK;
                 ++attempt) {
                PQreset(conn_.get());
                if (PQstatus(conn_.get()) != CONNECTION_OK) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                }
            }
            r.reset(PQexec(conn_.get(), sql.c_str()));
        }
        return r;
    }

  public:
    // Drops a replication slot a daemon streams: terminates its walsender and drops the slot,
    // again while the daemon reconnects first. Returns whether the slot is gone.
    bool drop_active_slot(const std::string& slot) {
        const std::string count =
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'";
        for (int i = 0; i < 50 && value(count) != "0"; ++i) {
            try {
                exec(
                    "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE "
                    "slot_name = '" +
                    slot + "'");
                exec("SELECT pg_drop_replication_slot('" + slot + "')");
            } catch (const std::exception&) {
                // still active: try again
            }
        }
        return value(count) == "0";
    }

  private:
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

}  // namespace pgcs::testing
