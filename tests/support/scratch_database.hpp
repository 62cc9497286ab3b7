// A database of a test's own on the test server, created at construction (with CREATE DATABASE
// `options`, e.g. "ENCODING SQL_ASCII TEMPLATE template0") and dropped with its connections at
// the end. Declare it before a fixture whose slot lives in it, so the slot is gone first.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "support/pg_client.hpp"
#include "support/test_env.hpp"

namespace pgcs::testing {

struct ScratchDatabase {
    std::string name;
    explicit ScratchDatabase(std::string db, const std::string& options = "")
        : name(std::move(db)) {
        PgClient(pg_conninfo()).exec("CREATE DATABASE " + name + " " + options);
    }
    ~ScratchDatabase() {
        try {
            PgClient(pg_conninfo()).exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (const std::exception& e) {
            WARN("clean-up: " << e.what());
        }
    }
    ScratchDatabase(const ScratchDatabase&) = delete;
    ScratchDatabase& operator=(const ScratchDatabase&) = delete;
    std::string conninfo() const { return pg_conninfo() + " dbname=" + name; }
};

}  // namespace pgcs::testing
