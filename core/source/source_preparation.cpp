// The publication and slot set-up at start; see source_preparation.hpp.
#include "core/source/source_preparation.hpp"

#include <spdlog/spdlog.h>

#include "core/source/failover_state.hpp"
#include "core/source/server_checks.hpp"
#include "core/source/server_identity.hpp"
#include "core/source/slot_checks.hpp"
#include "core/source/stream_failure.hpp"

namespace pgcs::source {

namespace {

ConnectionSettings named(const SourceSettings& s, const char* application_name) {
    return {s.connection.conninfo, s.connection.password, application_name};
}

// postgres.failover on a slot made without it: set it (the slot is not in use, or it is another
// pgchangeset's that will set it too). Keeping a non-failover slot would lose it at a promotion.
// Returns whether it set it just now.
bool make_failover_slot(const SourceSettings& s, const SlotInfo& slot) {
    if (slot.failover) {
        return false;
    }
    if (slot.active) {
        spdlog::warn(
            "replication slot {} is not a failover slot (postgres.failover is true) and another "
            "process streams it: it is set once pgchangeset starts on the free slot",
            s.slot);
        return false;
    }
    auto repl = connect(named(s, "pgchangeset-failover"), true);
    enable_slot_failover(repl.get(), s.slot);
    spdlog::warn(
        "replication slot {} was not a failover slot: set FAILOVER true "
        "(ALTER_REPLICATION_SLOT), as postgres.failover asks; standbys with "
        "sync_replication_slots copy it from now on",
        s.slot);
    return true;
}

// The server settings failover depends on, as far as the primary and the standby show them.
// `created`: the slot is new (or newly a failover slot), and the standby copies it within
// seconds (its slot sync worker).
void log_failover_state(PGconn* conn, const SourceSettings& s, bool created) {
    const auto state = inspect_failover(conn, s.slot, named(s, "pgchangeset"));
    std::string facts;
    for (const auto& [key, value] : state.facts) {
        facts.append(facts.empty() ? "" : "; ").append(key).append(": ").append(value);
    }
    spdlog::info("failover: {}", facts);
    for (const auto& p : state.problems) {
        spdlog::warn("failover: {}", p);
    }
    if (!state.copy_problem.empty() && created) {
        spdlog::info(
            "failover: the slot is new: the standby's slot sync worker copies it within about "
            "30 s (pgchangeset status shows standby_slot_synced)");
    } else if (!state.copy_problem.empty()) {
        spdlog::warn("failover: {}", state.copy_problem);
    }
}

// The publication, made or completed when allowed (never on a standby: checked there).
void prepare_publication(const Catalog& catalog, const SourceSettings& s,
                         const std::vector<TableName>& tables, bool in_recovery) {
    if (in_recovery) {
        const bool exists = catalog.publication_exists(s.publication);
        check_standby_publication(
            s.publication, exists,
            exists ? catalog.publication_tables(s.publication) : std::vector<TableName>{}, tables);
    } else if (!s.create_publication && !catalog.publication_exists(s.publication)) {
        throw StreamFailure("publication '" + s.publication +
                            "' does not exist and postgres.create_publication is false: create "
                            "it (CREATE PUBLICATION ... FOR TABLE ...) or allow pgchangeset to");
    }
    if (!in_recovery) {
        if (auto what =
                catalog.ensure_publication(s.publication, s.publish_via_partition_root, tables);
            !what.empty()) {
            spdlog::info("{}", what);
        }
    }
    if (auto missing = catalog.generated_columns_warning(s.publication); !missing.empty()) {
        spdlog::warn("{}", missing);
    }
}

}  // namespace

Lsn prepare_source(PGconn* conn, const Catalog& catalog, const SourceSettings& s,
                   const std::function<bool(bool slot_missing)>& before_slot,
                   std::optional<ExportedSnapshot>* exported, const SourceContext& context) {
    check_server_settings(catalog.server_version(), context.in_recovery, s);
    check_wal_level(conn);
    const auto tables = catalog.resolve_tables(s.tables);
    warn_about_keys(conn, tables);
    prepare_publication(catalog, s, tables, context.in_recovery);
    if (auto slot = catalog.slot(s.slot)) {
        check_existing_slot(s.slot, *slot, catalog.current_database());
        if (context.promotion) {
            check_promoted_slot(s.slot, *slot, catalog.server_version(), context);
        }
        if (s.failover) {
            // Just made a failover slot: new to the standby, copied within seconds.
            log_failover_state(conn, s, make_failover_slot(s, *slot));
        }
        if (before_slot) {
            before_slot(false);
        }
        spdlog::info("slot {} resumes after {}", s.slot, format_lsn(slot->confirmed_flush));
        return slot->confirmed_flush;
    }
    check_slot_may_be_created(s, context);
    const bool export_snapshot = before_slot && before_slot(true) && exported != nullptr;
    if (context.in_recovery) {
        spdlog::info(
            "creating replication slot {} on a standby: PostgreSQL waits for the primary to log "
            "its running transactions (the primary's background writer does so within 15 s "
            "while the primary writes; an idle primary never does: run SELECT "
            "pg_log_standby_snapshot() on the primary)",
            s.slot);
    } else {
        spdlog::info(
            "creating replication slot {}{} (PostgreSQL waits for the transactions running "
            "now to end)",
            s.slot, s.failover ? " with failover" : "");
    }
    Lsn created = 0;
    if (export_snapshot) {
        // The connection needs the same settings as the daemon's: the caller's conninfo.
        *exported =
            create_slot_exporting(named(s, "pgchangeset-snapshot-export"), s.slot, s.failover);
        created = (*exported)->consistent_point;
        spdlog::info("slot {} created with its snapshot {} exported, for tables without a key",
                     s.slot, (*exported)->name);
    } else {
        created = catalog.create_slot(s.slot, s.failover);
    }
    if (s.failover) {
        log_failover_state(conn, s, true);
    }
    spdlog::warn(
        "created replication slot {} at {}: changes committed before it are not "
        "captured",
        s.slot, format_lsn(created));
    return created;
}

}  // namespace pgcs::source
