// The failover set-up as the primary and the standby show it; see failover_state.hpp.
#include "core/source/failover_state.hpp"

#include <sstream>

namespace pgcs::source {

namespace {

std::string value(PGconn* conn, const std::string& sql,
                  const std::vector<std::string>& params = {}) {
    auto r = exec(conn, sql, params);
    return PQntuples(r.get()) == 1 && PQgetisnull(r.get(), 0, 0) == 0 ? PQgetvalue(r.get(), 0, 0)
                                                                      : "";
}

std::vector<std::string> split_names(const std::string& list) {
    std::vector<std::string> out;
    std::stringstream in(list);
    for (std::string name; std::getline(in, name, ',');) {
        const auto from = name.find_first_not_of(" \t\"");
        const auto to = name.find_last_not_of(" \t\"");
        if (from != std::string::npos) {
            out.push_back(name.substr(from, to - from + 1));
        }
    }
    return out;
}

void inspect_primary(PGconn* primary, const std::string& slot, FailoverState& out,
                     std::vector<std::string>& standby_slots) {
    const std::string failover = value(
        primary, "SELECT failover::text FROM pg_replication_slots WHERE slot_name = $1", {slot});
    out.facts.emplace_back("slot_failover", failover.empty() ? "(no slot)" : failover);
    if (failover == "false") {
        out.problems.emplace_back("slot '" + slot +
                                  "' is not a failover slot: pgchangeset sets it at start "
                                  "(ALTER_REPLICATION_SLOT ... (FAILOVER true))");
    }
    const std::string names = value(primary, "SHOW synchronized_standby_slots");
    out.facts.emplace_back("synchronized_standby_slots", names);
    standby_slots = split_names(names);
    if (standby_slots.empty()) {
        out.problems.emplace_back(
            "synchronized_standby_slots is empty on the primary: set it to the standby's "
            "physical slot, or pgchangeset may receive (and publish) changes the standby does "
            "not have yet, which a promotion loses");
    }
    for (const auto& name : standby_slots) {
        auto r = exec(primary,
                      "SELECT slot_type, active, coalesce(restart_lsn::text, ''), "
                      "coalesce((pg_current_wal_lsn() - restart_lsn)::int8::text, '') "
                      "FROM pg_replication_slots WHERE slot_name = $1",
                      {name});
        if (PQntuples(r.get()) == 0) {
            out.facts.emplace_back("standby_slot " + name, "missing");
            out.problems.emplace_back("synchronized_standby_slots names '" + name +
                                      "', which is no slot on the primary: create the standby's "
                                      "physical slot (pg_create_physical_replication_slot)");
            continue;
        }
        const std::string type = PQgetvalue(r.get(), 0, 0);
        const bool active = std::string(PQgetvalue(r.get(), 0, 1)) == "t";
        out.facts.emplace_back("standby_slot " + name,
                               type + (active ? ", active" : ", not active") + ", restart_lsn " +
                                   PQgetvalue(r.get(), 0, 2) + ", " + PQgetvalue(r.get(), 0, 3) +
                                   " bytes behind");
        if (!active) {
            out.problems.emplace_back(
                "the standby's physical slot '" + name +
                "' is not active: the standby is not streaming, and pgchangeset receives "
                "nothing until it is (synchronized_standby_slots)");
        }
    }
}

void inspect_standby(PGconn* standby, const std::string& slot,
                     const std::vector<std::string>& standby_slots, FailoverState& out) {
    const auto expect_on = [&](const char* setting) {
        const std::string v = value(standby, std::string("SHOW ") + setting);
        out.facts.emplace_back(std::string("standby_") + setting, v);
        if (v != "on") {
            out.problems.emplace_back(std::string(setting) + " is '" + v +
                                      "' on the standby: set it to on (and reload)");
        }
    };
    expect_on("sync_replication_slots");
    expect_on("hot_standby_feedback");
    const std::string primary_slot = value(standby, "SHOW primary_slot_name");
    out.facts.emplace_back("standby_primary_slot_name", primary_slot);
    bool named = false;
    for (const auto& s : standby_slots) {
        named = named || s == primary_slot;
    }
    if (primary_slot.empty() || !named) {
        out.problems.emplace_back("the standby's primary_slot_name ('" + primary_slot +
                                  "') is not named in the primary's synchronized_standby_slots");
    }
    auto r = exec(standby,
                  "SELECT synced, temporary, coalesce(confirmed_flush_lsn::text, '') "
                  "FROM pg_replication_slots WHERE slot_name = $1",
                  {slot});
    if (PQntuples(r.get()) == 0) {
        out.facts.emplace_back("standby_slot_synced", "no (no copy of the slot yet)");
        out.copy_problem =
            "the standby has no copy of slot '" + slot + "' yet: a promotion now would lose it";
        return;
    }
    const bool synced = std::string(PQgetvalue(r.get(), 0, 0)) == "t";
    const bool temporary = std::string(PQgetvalue(r.get(), 0, 1)) == "t";
    if (synced && !temporary) {
        out.facts.emplace_back("standby_slot_synced", std::string("yes, confirmed_flush_lsn ") +
                                                          PQgetvalue(r.get(), 0, 2));
        return;
    }
    out.facts.emplace_back("standby_slot_synced",
                           temporary ? "no (temporary: the standby has not caught up with it)"
                                     : "no (not a synced copy)");
    out.copy_problem = "the standby's copy of slot '" + slot +
                       "' is not synced yet: a promotion now would lose the slot";
}

}  // namespace

FailoverState inspect_failover(PGconn* primary, const std::string& slot,
                               const ConnectionSettings& settings) {
    FailoverState out;
    std::vector<std::string> standby_slots;
    inspect_primary(primary, slot, out, standby_slots);
    ConnectionSettings to_standby = settings;
    to_standby.application_name = "pgchangeset-failover-check";
    PgConnPtr standby;
    try {
        standby = connect(to_standby, false, "standby");
    } catch (const PgError& e) {
        out.facts.emplace_back("standby", "not reachable through postgres.conninfo");
        out.problems.emplace_back(
            "no standby among postgres.conninfo's hosts (target_session_attrs=standby: " +
            std::string(e.what()) +
            "): its settings are not checked, and the daemon cannot follow a promotion to a "
            "host it does not list");
        return out;
    }
    out.facts.emplace_back("standby",
                           std::string(PQhost(standby.get())) + ":" + PQport(standby.get()));
    inspect_standby(standby.get(), slot, standby_slots, out);
    return out;
}

}  // namespace pgcs::source
