// The snapshot's progress bar: 25 marks for 100%, rows and tables left.
#include "core/snapshot/progress_bar.hpp"

#include <catch2/catch.hpp>

using pgcs::snapshot::progress_bar;

TEST_CASE("progress bar: a quarter mark per 4%, capped at 100%") {
    CHECK(progress_bar(0, 1000, 2) ==
          "snapshot [.........................]   0%  0 rows, 2 tables left");
    CHECK(progress_bar(500, 1000, 1) ==
          "snapshot [############.............]  50%  500 rows, 1 tables left");
    // The estimate (pg_class.reltuples) can be below what is read.
    CHECK(progress_bar(1500, 1000, 0) ==
          "snapshot [#########################] 100%  1500 rows, 0 tables left");
}

TEST_CASE("progress bar: without an estimate, 0% until no table is left") {
    CHECK(progress_bar(10, 0, 1).find("  0%  10 rows") != std::string::npos);
    CHECK(progress_bar(10, 0, 0).find("100%  10 rows") != std::string::npos);
}
