// What PostgreSQL lets a client see of a failover set-up (PostgreSQL 17+): on the primary,
// synchronized_standby_slots and the physical slots it names; on the standby (found among
// conninfo's hosts with target_session_attrs=standby), sync_replication_slots,
// hot_standby_feedback, primary_slot_name and whether its copy of the logical slot is synced.
// Read at start (logged) and by `pgchangeset status` (printed).
#pragma once

#include <libpq-fe.h>

#include <string>
#include <utility>
#include <vector>

#include "core/source/pg_connection.hpp"

namespace pgcs::source {

struct FailoverState {
    // "key: value" facts, in order, for the log and `status`.
    std::vector<std::pair<std::string, std::string>> facts;
    // Settings or states that keep a promotion from resuming the slot, each with what to do.
    std::vector<std::string> problems;
    // The standby's copy of the slot is missing or not synced yet (empty when it is): normal for
    // a slot created moments ago, a problem otherwise.
    std::string copy_problem;
};

// `primary`: a normal connection to the primary. `settings`: the daemon's conninfo, used to find
// a standby (no standby among its hosts is a problem: its settings cannot be checked).
FailoverState inspect_failover(PGconn* primary, const std::string& slot,
                               const ConnectionSettings& settings);

}  // namespace pgcs::source
