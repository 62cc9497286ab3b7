// Every snapshot's work is bounded: a table's snapshot ends at the largest key it had when the
// snapshot began. Rows written afterwards reach
// the consumer as `added` events of the stream, so a table written faster than the snapshot
// reads it still ends, and no row inserted after the start is read.
#include <atomic>
#include <thread>

#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::parse_json;
using pgcs::testing::PgClient;
using pgcs::testing::Record;

namespace {

constexpr int kRows = 2000;
constexpr long long kFirstNewKey = 1000000;

// Inserts rows with ascending keys from kFirstNewKey, one per transaction, until stopped.
class AppendingWriter {
  public:
    explicit AppendingWriter(std::string table) : table_(std::move(table)) {
        thread_ = std::thread([this] {
            PgClient pg(pgcs::testing::pg_conninfo());
            for (long long id = kFirstNewKey; !stop_; ++id) {
                pg.exec("INSERT INTO " + table_ + " VALUES (" + std::to_string(id) + ", 'new')");
                ++written_;
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        });
    }
    ~AppendingWriter() { stop(); }
    int stop() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
        return written_;
    }

  private:
    std::string table_;
    std::atomic<bool> stop_{false};
    std::atomic<int> written_{0};
    std::thread thread_;
};

struct Counts {
    int read_old = 0;   // `read` events of rows that existed at the start
    int read_new = 0;   // `read` events of rows inserted after the start (must be none)
    int added_new = 0;  // `added` events of rows inserted after the start
};

Counts count(const std::vector<Record>& records) {
    Counts c;
    for (const Record& r : records) {
        if (r.null_value) {
            continue;
        }
        auto doc = parse_json(r.value);
        const std::string op = doc["op"].GetString();
        const long long id = doc["after"]["id"].GetInt64();
        if (op == "read") {
            ++(id >= kFirstNewKey ? c.read_new : c.read_old);
        } else if (op == "added" && id >= kFirstNewKey) {
            ++c.added_new;
        }
    }
    return c;
}

}  // namespace

TEST_CASE("a keyed table's snapshot ends at its largest key at the start, however fast it grows",
          "[snapshot]") {
    CaptureFixture fx("CREATE TABLE {table} (id int8 PRIMARY KEY, v text)");
    fx.exec("INSERT INTO {table} SELECT g, 'old' FROM generate_series(1, " + std::to_string(kRows) +
            ") g");
    fx.extra_config = "snapshot:\n  mode: initial\n  chunk_size: 10\n";
    fx.start_daemon();
    REQUIRE(fx.wait_for_log("snapshot of public." + fx.table() + ": from the first row"));
    AppendingWriter writer("public." + fx.table());
    REQUIRE(fx.wait_for_log("snapshot of public." + fx.table() + " complete",
                            std::chrono::seconds(120)));
    const int written = writer.stop();
    INFO("rows inserted while the snapshot ran: " << written);
    REQUIRE(written > 0);
    const auto records = fx.read(kRows + written, std::chrono::seconds(60));
    const Counts c = count(records);
    CHECK(c.read_new == 0);
    CHECK(c.read_old == kRows);
    CHECK(c.added_new == written);
    CHECK(fx.stop_daemon().exit_code == 0);
}
