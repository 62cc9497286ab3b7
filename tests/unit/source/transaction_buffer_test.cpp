// Tests for the transaction buffer: append order, the shared memory budget, spilling to an
// unlinked file past the budget, replay from disk, reuse after clear, and a folder it cannot use.
#include "core/source/transaction_buffer.hpp"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using pgcs::source::MemoryBudget;
using pgcs::source::SpillError;
using pgcs::source::TransactionBuffer;

std::vector<std::byte> message(std::size_t n, unsigned seed) {
    std::vector<std::byte> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<std::byte>((std::size_t{seed} * 131 + i * 7) & 0xff);
    }
    return out;
}

struct Seen {
    std::uint64_t lsn;
    std::int64_t captured;
    std::uint32_t xid;
    std::vector<std::byte> bytes;
};

std::vector<Seen> replay(TransactionBuffer& b) {
    std::vector<Seen> out;
    b.replay([&](const TransactionBuffer::Entry& e) {
        out.push_back({e.lsn, e.captured_time, e.xid, {e.bytes.begin(), e.bytes.end()}});
    });
    return out;
}

// Appends `count` messages of varied sizes (some larger than a memory chunk) and checks that
// replay returns them all, in order, byte for byte.
void append_and_check(TransactionBuffer& b, unsigned count, unsigned first_seed = 0) {
    std::vector<std::vector<std::byte>> sent;
    for (unsigned i = 0; i < count; ++i) {
        const std::size_t size = (i % 50 == 7) ? 200000 : (i % 13) * 37;
        sent.push_back(message(size, first_seed + i));
        b.append(1000 + i, 5000 + i, i % 3, sent.back());
    }
    REQUIRE(b.size() == count);
    const auto seen = replay(b);
    REQUIRE(seen.size() == count);
    for (unsigned i = 0; i < count; ++i) {
        CHECK(seen[i].lsn == 1000 + i);
        CHECK(seen[i].captured == 5000 + i);
        CHECK(seen[i].xid == i % 3);
        CHECK(seen[i].bytes == sent[i]);
    }
}

}  // namespace

TEST_CASE("a small transaction stays in memory and replays in order", "[buffer]") {
    MemoryBudget budget(64 << 20);
    TransactionBuffer b(budget, "/tmp");
    append_and_check(b, 120);
    CHECK_FALSE(b.spilled());
    CHECK(budget.used() > 0);
    b.clear();
    CHECK(budget.used() == 0);
    CHECK(b.size() == 0);
    CHECK(replay(b).empty());
}

TEST_CASE("past the budget a transaction spills to disk and replays the same", "[buffer]") {
    MemoryBudget budget(256 << 10);
    TransactionBuffer b(budget, "/tmp");
    append_and_check(b, 2000);
    CHECK(b.spilled());
    CHECK(budget.used() == 0);  // everything moved to the file
    CHECK(budget.peak() <= budget.limit());
    b.clear();
    CHECK_FALSE(b.spilled());
    // Reused after clear: in memory again until the budget is reached.
    append_and_check(b, 10, 99);
    CHECK_FALSE(b.spilled());
}

TEST_CASE("the budget is shared: the buffer that passes it spills, the other stays", "[buffer]") {
    MemoryBudget budget(100 << 10);
    TransactionBuffer first(budget, "/tmp");
    TransactionBuffer second(budget, "/tmp");
    const auto m = message(1000, 1);
    for (int i = 0; i < 60; ++i) {
        first.append(i, 0, 1, m);
    }
    CHECK_FALSE(first.spilled());
    for (int i = 0; i < 60; ++i) {
        second.append(i, 0, 2, m);
    }
    CHECK_FALSE(first.spilled());
    CHECK(second.spilled());
    CHECK(budget.used() <= budget.limit());
    CHECK(replay(first).size() == 60);
    CHECK(replay(second).size() == 60);
    second.clear();
    first.clear();
    CHECK(budget.used() == 0);
}

TEST_CASE("a spill folder that cannot be used is a clear error", "[buffer]") {
    MemoryBudget budget(64 << 10);
    TransactionBuffer b(budget, "/nonexistent/pgchangeset-spill");
    const auto m = message(10000, 3);
    try {
        for (int i = 0; i < 20; ++i) {
            b.append(i, 0, 0, m);
        }
        FAIL("no SpillError");
    } catch (const SpillError& e) {
        CHECK_THAT(e.what(), Catch::Contains("/nonexistent/pgchangeset-spill") &&
                                 Catch::Contains("buffer.spill_directory"));
    }
}

TEST_CASE("spill files leave nothing behind in the folder", "[buffer]") {
    const auto dir = std::filesystem::temp_directory_path() / "pgcs-spill-test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    {
        MemoryBudget budget(64 << 10);
        TransactionBuffer b(budget, dir.string());
        append_and_check(b, 300);
        CHECK(b.spilled());
        CHECK(std::filesystem::is_empty(dir));  // unlinked while open
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("spill_directory_problem: a folder transactions can spill to, checked up front",
          "[source][spill]") {
    using pgcs::source::spill_directory_problem;
    namespace fs = std::filesystem;
    std::string pattern = (fs::temp_directory_path() / "pgcs_spill_check_XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    const fs::path dir = pattern;
    CHECK_FALSE(spill_directory_problem(dir.string()));
    CHECK(fs::is_empty(dir));  // nothing left behind

    auto missing = spill_directory_problem((dir / "absent").string());
    REQUIRE(missing);
    CHECK_THAT(*missing, Catch::Contains("absent (No such file or directory)"));

    const fs::path file = dir / "file";
    { std::ofstream(file) << "x"; }
    auto not_dir = spill_directory_problem(file.string());
    REQUIRE(not_dir);
    CHECK_THAT(*not_dir, Catch::Contains("is not a directory"));

    auto proc = spill_directory_problem("/proc");
    REQUIRE(proc);
    CHECK_THAT(*proc, Catch::Contains("cannot create a file in /proc"));
    fs::remove_all(dir);
}
