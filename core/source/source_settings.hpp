// What the start-up checks and the publication/slot set-up read: the postgres.* settings the
// daemon translates from its configuration, and what it knows of the server beforehand.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/pgoutput/lsn.hpp"
#include "core/source/pg_connection.hpp"

namespace pgcs::source {

struct SourceSettings {
    ConnectionSettings connection;    // the daemon's conninfo and password
    std::string slot;                 // postgres.slot
    std::string publication;          // postgres.publication
    std::vector<std::string> tables;  // postgres.tables; empty: every table of the publication
    bool create_publication = true;
    bool create_slot = true;
    bool publish_via_partition_root = false;
    bool binary = false;    // postgres.binary
    bool messages = false;  // postgres.messages
    bool failover = false;  // postgres.failover
};

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

}  // namespace pgcs::source
