// The streaming replication protocol over one replication connection: START_REPLICATION,
// CopyData in (XLogData 'w', primary keepalive 'k'), standby status updates 'r' out.
// https://www.postgresql.org/docs/15/protocol-replication.html
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "core/pgoutput/lsn.hpp"
#include "core/source/pg_connection.hpp"

namespace pgcs::source {

struct XLogData {
    Lsn start = 0;    // WAL position of the payload (a change's LSN; a commit's end LSN)
    Lsn wal_end = 0;  // the server's current WAL end
    std::int64_t send_time = 0;
    // When the daemon received it (PostgreSQL timestamp): the time of the socket read that
    // brought it, shared by every message of that read (one clock read per read, not per change).
    std::int64_t received_time = 0;
    std::span<const std::byte> payload;  // one pgoutput message; valid until the next read
};

struct Keepalive {
    Lsn wal_end = 0;
    std::int64_t send_time = 0;
    bool reply_requested = false;
};

using StreamEvent = std::variant<XLogData, Keepalive>;

struct StartOptions {
    std::string slot;
    std::string publication;
    int proto_version = 1;
    Lsn start_lsn = 0;       // 0/0: resume from the slot's confirmed_flush_lsn
    bool streaming = false;  // v2+: stream large in-progress transactions
    bool binary = false;     // PostgreSQL 14+: column values in their send/receive form
    bool messages = false;   // pg_logical_emit_message messages
};

// The pgoutput options for a server: v2 with streaming from PostgreSQL 14 when wanted, else v1;
// binary needs 14 as well (an error for an older server is the caller's to raise).
StartOptions start_options_for(int server_version, std::string slot, std::string publication,
                               bool want_streaming, bool want_binary, bool want_messages);

// Microseconds since 2000-01-01 UTC, now.
std::int64_t pg_now();

class ReplicationStream {
  public:
    explicit ReplicationStream(PgConnPtr conn) : conn_(std::move(conn)) {}

    // Throws PgError (with SQLSTATE, e.g. 55006 when another process streams the slot).
    void start(const StartOptions& options);

    // Reads one message if one is available without blocking. Returns false when none is.
    // Throws PgError when the connection fails or the server ends the stream.
    bool read(StreamEvent& out);

    // Sends a standby status update. `flush` moves the slot's confirmed_flush_lsn.
    void send_status(Lsn write, Lsn flush, Lsn apply, bool reply_requested = false);

    // Ends the stream after the final status update: sends CopyDone and waits up to
    // `timeout_ms` for the server to end it too. The server handles messages in order, so once
    // it has, the final confirmed position is in the slot (without this, a walsender that
    // fails writing to the closed socket can exit before reading the update). Messages still
    // arriving are dropped: nothing after the final update was acknowledged. Returns whether
    // the server confirmed.
    bool finish(int timeout_ms);

    int socket() const { return PQsocket(conn_.get()); }

  private:
    struct FreeMem {
        void operator()(char* p) const { PQfreemem(p); }
    };
    PgConnPtr conn_;
    std::unique_ptr<char, FreeMem> buffer_;
    bool input_consumed_ = false;
    std::int64_t read_time_ = 0;  // pg_now() at the last socket read
};

}  // namespace pgcs::source
