// Start-up checks and set-up on the PostgreSQL side, in the order that keeps the slot
// consistent: server and role checks, tables, publication (before the slot), slot.
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "core/snapshot/snapshot_settings.hpp"
#include "core/source/catalog.hpp"
#include "core/source/stream_failure.hpp"

namespace pgcs::daemon {

using source::ConfigFailure;
using source::StreamFailure;

// What the stream loop knows of the server before the slot is looked at.
struct SourceContext {
    int timeline = 0;          // IDENTIFY_SYSTEM's timeline
    bool in_recovery = false;  // a hot standby
    // Set when this loop follows a promotion (the timeline changed under the daemon): the slot
    // must exist (never created), be the copy synchronised from the old primary, and not be
    // ahead of what the daemon acknowledged there.
    struct Promotion {
        int old_timeline = 0;
        Lsn acknowledged = 0;
        bool from_standby = false;  // streamed from this server while it was a standby
    };
    std::optional<Promotion> promotion;
};

// Checks wal_level, the REPLICATION attribute and the tables; creates the publication and the
// slot when missing and allowed. Returns the slot's confirmed_flush_lsn. Throws StreamFailure
// (permanent problems, with what to do) or source::PgError. `before_slot(slot_missing)` runs
// once the publication exists, just before the slot is created (true) or found (false): what
// must be durable before a new slot exists (the initial snapshot's requests) goes there. When it
// returns true for a missing slot, the slot is created with its snapshot exported into
// `exported` (which then holds the replication connection that keeps it alive).
// Throws ConfigFailure (exit 2) for postgres.failover on a server before 17 or on a standby.
Lsn prepare_source(PGconn* conn, const source::Catalog& catalog, const config::PostgresConfig& pg,
                   const std::function<bool(bool slot_missing)>& before_slot = {},
                   std::optional<source::ExportedSnapshot>* exported = nullptr,
                   const SourceContext& context = {});

// The first replication connection, where the server says whether the user may replicate: a
// refusal (42501) is a StreamFailure naming the user and the grant (`conn`, the catalog
// connection, explains the outcome). Opened before anything is created.
source::PgConnPtr connect_replication_checked(PGconn* conn,
                                              const source::ConnectionSettings& settings);

// On a reconnect: the slot must still be there and valid; it is never re-created.
void check_slot_still_usable(const source::Catalog& catalog, const std::string& slot,
                             Lsn acknowledged);

// What the snapshot coordinator reads of the configuration (snapshot.*, the slot, the
// publication, the connection of its readers).
snapshot::SnapshotSettings snapshot_settings_from(const config::Config& config);
// kafka.format and kafka.debezium, for the encoders.
encode::FormatSettings format_settings_from(const config::Config& config);
// Where logical decoding messages go: kafka.messages_topic, else the format's default.
std::string messages_topic_from(const config::Config& config);

}  // namespace pgcs::daemon
