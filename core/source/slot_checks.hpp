// Whether the replication slot may be streamed from, or created: decided from what
// pg_replication_slots says of it and what the daemon knows (a promotion, what it acknowledged).
// Each refusal is a StreamFailure saying what to do; pgchangeset never continues from a gap.
#pragma once

#include <optional>
#include <string>

#include "core/source/catalog.hpp"
#include "core/source/source_settings.hpp"

namespace pgcs::source {

// An existing slot: pgoutput, in this database, not invalidated.
void check_existing_slot(const std::string& name, const SlotInfo& slot,
                         const std::string& current_database);

// After a promotion: the slot is the copy synchronised from the old primary (from PostgreSQL 17,
// unless the daemon streamed from this server as a standby), and not ahead of what was
// acknowledged there (ahead: something else moved it). Logs what is sent again.
void check_promoted_slot(const std::string& name, const SlotInfo& slot, int server_version,
                         const SourceContext& context);

// No slot: throws unless one may be created now (not after a promotion, not for a failover
// slot on a server promoted before, not with postgres.create_slot false).
void check_slot_may_be_created(const SourceSettings& settings, const SourceContext& context);

// On a reconnect: the slot (nullopt: none) must still be there and valid; it is never
// re-created.
void check_slot_still_usable(const std::optional<SlotInfo>& slot, const std::string& name,
                             Lsn acknowledged);

}  // namespace pgcs::source
