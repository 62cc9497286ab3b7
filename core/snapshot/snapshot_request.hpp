// An on-demand snapshot request (`pgchangeset snapshot`), checked on the server and recorded in
// the progress table, where the running daemon finds it: PostgreSQL 14+, the table exists and
// is published, the condition is a valid expression on it.
#pragma once

#include <libpq-fe.h>

#include <stdexcept>
#include <string>

namespace pgcs::snapshot {

struct SnapshotRequest {
    std::string table;   // as the user wrote it (--table), for messages
    std::string schema;  // and parsed
    std::string name;
    std::string condition;  // --where; "" for the whole table
    std::string publication;
    std::string slot;
    std::string progress_schema;  // snapshot.table
    std::string progress_table;
};

// A request the server shows to be wrong (exit_code 2) or impossible there (1), with what to do.
class RequestRefused : public std::runtime_error {
  public:
    RequestRefused(const std::string& what, int exit_code)
        : std::runtime_error(what), exit_code_(exit_code) {}
    int exit_code() const { return exit_code_; }

  private:
    int exit_code_;
};

struct RecordedRequest {
    std::string quoted;    // the table, "schema"."name"
    std::string progress;  // the progress table, quoted
};

// Checks and records the request. Throws RequestRefused or source::PgError.
RecordedRequest record_snapshot_request(PGconn* conn, const SnapshotRequest& request);

}  // namespace pgcs::snapshot
