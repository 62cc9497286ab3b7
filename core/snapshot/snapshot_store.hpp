// Snapshot progress and on-demand requests, kept durably in a small table of the source
// database (snapshot.table): one row per (slot, table). `pgchangeset snapshot` writes a request
// there; the daemon reads it, and records each chunk's last key once Kafka has acknowledged the
// chunk, so a restart continues after the last acknowledged chunk.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pgcs::snapshot {

struct TableProgress {
    std::string table;      // "schema"."name", as format('%I.%I') prints it
    std::string condition;  // SQL condition of an on-demand request; empty = every row
    std::string state;      // pending, running, done, failed
    // Text of the key columns (key order) of the last acknowledged row; empty: from the start.
    std::vector<std::string> last_key;
    std::int64_t rows = 0;        // rows published so far
    std::int64_t generation = 0;  // bumped by every new request for the table
};

class SnapshotStore {
  public:
    // `quoted_table`: the progress table, "schema"."name".
    SnapshotStore(PGconn* conn, std::string quoted_table, std::string slot)
        : conn_(conn), table_(std::move(quoted_table)), slot_(std::move(slot)) {}

    // CREATE TABLE IF NOT EXISTS (needs CREATE on the schema the first time; only when the
    // table is missing). A missing schema or privilege is a source::StreamFailure saying what
    // to grant (README, "Managed PostgreSQL and least privilege").
    void ensure_table() const;
    // Whether the table exists (no DDL).
    bool table_exists() const;

    // A new snapshot of `table` (from its first row), replacing any earlier one of this slot.
    void request(const std::string& table, const std::string& condition) const;
    // Forgets every row of this slot (a new slot: earlier progress means nothing).
    void clear() const;
    // What this slot's rows say: whether a snapshot was ever recorded for it, and how far.
    struct Summary {
        std::int64_t tables = 0;      // rows of this slot
        std::int64_t unfinished = 0;  // pending or running
        std::int64_t done = 0;
        std::int64_t failed = 0;
        std::string last_update;  // the newest updated_at, "2026-12-02T06:55:01Z"; "" for none
    };
    Summary summary() const;

    // Rows of this slot not done or failed.
    std::vector<TableProgress> unfinished() const;
    std::vector<TableProgress> all() const;

    // Records an acknowledged chunk; `done` when it was the table's last. Ignored when the
    // table was requested again since (`generation` differs).
    void save(const std::string& table, std::int64_t generation,
              const std::vector<std::string>& last_key, std::int64_t rows, bool done) const;
    void fail(const std::string& table, std::int64_t generation, const std::string& why) const;

    static std::string key_json(const std::vector<std::string>& key);
    static std::vector<std::string> parse_key_json(const std::string& json);

  private:
    std::vector<TableProgress> select(const std::string& where) const;

    PGconn* conn_;
    std::string table_;
    std::string slot_;
};

}  // namespace pgcs::snapshot
