// START_REPLICATION and the CopyBoth message loop.
#include "core/source/replication_stream.hpp"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace pgcs::source {

namespace {

constexpr std::int64_t kPgEpochUnixMicros = 946684800LL * 1000000LL;

std::uint64_t read_u64(const char* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
        v = (v << 8) | static_cast<unsigned char>(p[i]);
    }
    return v;
}

void write_u64(char* p, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<char>(v & 0xFF);
        v >>= 8;
    }
}

[[noreturn]] void throw_stream_error(PGconn* conn, const std::string& what) {
    std::string sqlstate;
    std::string msg = PQerrorMessage(conn);
    while (PGresult* r = PQgetResult(conn)) {
        if (const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) {
            sqlstate = s;
        }
        if (const char* m = PQresultErrorMessage(r); m != nullptr && *m != '\0') {
            msg = m;
        }
        PQclear(r);
    }
    while (!msg.empty() && msg.back() == '\n') {
        msg.pop_back();
    }
    throw PgError(what + (msg.empty() ? "" : ": " + msg), sqlstate);
}

}  // namespace

std::int64_t pg_now() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::microseconds>(now).count() - kPgEpochUnixMicros;
}

StartOptions start_options_for(int server_version, std::string slot, std::string publication,
                               bool want_streaming, bool want_binary, bool want_messages) {
    StartOptions o;
    o.slot = std::move(slot);
    o.publication = std::move(publication);
    const bool v14 = server_version >= 140000;
    o.streaming = want_streaming && v14;
    o.proto_version = o.streaming ? 2 : 1;
    o.binary = want_binary && v14;
    o.messages = want_messages;
    return o;
}

void ReplicationStream::start(const StartOptions& options) {
    // publication_names is a string literal holding a comma-separated identifier list.
    std::string pub_ident = quote_ident(conn_.get(), options.publication);
    std::string pub_literal;
    for (char c : pub_ident) {
        pub_literal += c;
        if (c == '\'') {
            pub_literal += '\'';
        }
    }
    char lsn[32];
    std::snprintf(lsn, sizeof lsn, "%X/%X", static_cast<unsigned>(options.start_lsn >> 32),
                  static_cast<unsigned>(options.start_lsn & 0xFFFFFFFFu));
    const std::string sql = "START_REPLICATION SLOT " + quote_ident(conn_.get(), options.slot) +
                            " LOGICAL " + lsn + " (proto_version '" +
                            std::to_string(options.proto_version) + "', publication_names '" +
                            pub_literal + "'" + (options.streaming ? ", streaming 'on'" : "") +
                            (options.binary ? ", binary 'true'" : "") +
                            (options.messages ? ", messages 'true'" : "") + ")";
    PgResultPtr res(PQexec(conn_.get(), sql.c_str()));
    if (PQresultStatus(res.get()) != PGRES_COPY_BOTH) {
        const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
        std::string msg = PQresultErrorMessage(res.get());
        while (!msg.empty() && msg.back() == '\n') {
            msg.pop_back();
        }
        throw PgError("START_REPLICATION failed: " + msg, state != nullptr ? state : "");
    }
}

bool ReplicationStream::read(StreamEvent& out) {
    for (;;) {
        buffer_.reset();
        char* raw = nullptr;
        const int len = PQgetCopyData(conn_.get(), &raw, /*async=*/1);
        if (len == 0) {
            // Nothing buffered: pull what the socket has once, then report "none".
            if (input_consumed_) {
                input_consumed_ = false;
                return false;
            }
            if (PQconsumeInput(conn_.get()) == 0) {
                throw_stream_error(conn_.get(), "lost the replication connection");
            }
            read_time_ = pg_now();
            input_consumed_ = true;
            continue;
        }
        input_consumed_ = false;
        if (len == -1) {
            throw_stream_error(conn_.get(), "the server ended the replication stream");
        }
        if (len < 0) {
            throw_stream_error(conn_.get(), "replication stream error");
        }
        buffer_.reset(raw);
        const auto size = static_cast<std::size_t>(len);
        if (raw[0] == 'w' && size >= 25) {
            XLogData x;
            x.start = read_u64(raw + 1);
            x.wal_end = read_u64(raw + 9);
            x.send_time = static_cast<std::int64_t>(read_u64(raw + 17));
            if (read_time_ == 0) {  // buffered before this stream's first read of its own
                read_time_ = pg_now();
            }
            x.received_time = read_time_;
            x.payload = std::as_bytes(std::span<const char>(raw + 25, size - 25));
            out = x;
            return true;
        }
        if (raw[0] == 'k' && size >= 18) {
            Keepalive k;
            k.wal_end = read_u64(raw + 1);
            k.send_time = static_cast<std::int64_t>(read_u64(raw + 9));
            k.reply_requested = raw[17] != 0;
            out = k;
            return true;
        }
        throw PgError("unexpected replication message '" + std::string(1, raw[0]) + "' of " +
                          std::to_string(size) + " bytes",
                      "");
    }
}

bool ReplicationStream::finish(int timeout_ms) {
    PGconn* c = conn_.get();
    if (PQputCopyEnd(c, nullptr) != 1 || PQflush(c) != 0) {
        return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    auto wait_input = [&]() {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) {
            return false;
        }
        pollfd p{PQsocket(c), POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
        return PQconsumeInput(c) != 0;
    };
    for (;;) {  // until the server's CopyDone
        char* raw = nullptr;
        const int len = PQgetCopyData(c, &raw, /*async=*/1);
        if (raw != nullptr) {
            PQfreemem(raw);
        }
        if (len == -1) {
            break;
        }
        if (len == -2 || (len == 0 && !wait_input())) {
            return false;
        }
    }
    bool ok = true;
    for (;;) {  // CommandComplete (or an error), then no more results
        while (PQisBusy(c) != 0) {
            if (!wait_input()) {
                return false;
            }
        }
        PGresult* r = PQgetResult(c);
        if (r == nullptr) {
            break;
        }
        ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
    }
    return ok;
}

void ReplicationStream::send_status(Lsn write, Lsn flush, Lsn apply, bool reply_requested) {
    char msg[34];
    msg[0] = 'r';
    write_u64(msg + 1, write);
    write_u64(msg + 9, flush);
    write_u64(msg + 17, apply);
    write_u64(msg + 25, static_cast<std::uint64_t>(pg_now()));
    msg[33] = reply_requested ? 1 : 0;
    if (PQputCopyData(conn_.get(), msg, sizeof msg) != 1 || PQflush(conn_.get()) != 0) {
        throw_stream_error(conn_.get(), "cannot send the standby status update");
    }
}

}  // namespace pgcs::source
