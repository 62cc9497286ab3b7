// The set-up on the PostgreSQL side at start, in the order that keeps the slot consistent:
// server checks, tables, publication (before the slot), slot.
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <optional>

#include "core/source/catalog.hpp"
#include "core/source/source_settings.hpp"

namespace pgcs::source {

// Checks the server (server_checks.hpp) and the tables; creates the publication and the slot
// when missing and allowed (slot_checks.hpp). Returns the slot's confirmed_flush_lsn. Throws
// StreamFailure (permanent problems, with what to do), ConfigFailure or PgError.
// `before_slot(slot_missing)` runs once the publication exists, just before the slot is created
// (true) or found (false): what must be durable before a new slot exists (the initial
// snapshot's requests) goes there. When it returns true for a missing slot, the slot is created
// with its snapshot exported into `exported` (which then holds the replication connection that
// keeps it alive).
Lsn prepare_source(PGconn* conn, const Catalog& catalog, const SourceSettings& settings,
                   const std::function<bool(bool slot_missing)>& before_slot = {},
                   std::optional<ExportedSnapshot>* exported = nullptr,
                   const SourceContext& context = {});

}  // namespace pgcs::source
