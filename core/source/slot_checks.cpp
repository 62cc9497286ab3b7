// The slot's checks; see slot_checks.hpp.
#include "core/source/slot_checks.hpp"

#include <spdlog/spdlog.h>

#include "core/source/stream_failure.hpp"

namespace pgcs::source {

void check_existing_slot(const std::string& name, const SlotInfo& slot,
                         const std::string& current_database) {
    if (slot.plugin != "pgoutput") {
        throw StreamFailure("replication slot '" + name + "' uses plugin '" + slot.plugin +
                            "', not pgoutput: choose another postgres.slot");
    }
    if (slot.database != current_database) {
        throw StreamFailure("replication slot '" + name + "' belongs to database '" +
                            slot.database + "': choose another postgres.slot");
    }
    if (slot.wal_status == "lost") {
        throw StreamFailure("replication slot '" + name +
                            "' was invalidated (wal_status lost): the changes it held are "
                            "gone. Drop it and snapshot again; pgchangeset will not silently "
                            "continue from a gap");
    }
}

// A slot another process streams is left to it: the daemon waits as a standby.
void check_promoted_slot(const std::string& name, const SlotInfo& slot, int server_version,
                         const SourceContext& context) {
    const auto& promotion = *context.promotion;
    // A slot made on this server while it was a standby is the one streamed: not a synced copy.
    if (server_version >= 170000 && !slot.synced && !promotion.from_standby) {
        throw StreamFailure(
            "replication slot '" + name + "' on the promoted server (timeline " +
            std::to_string(context.timeline) +
            ") was not synchronised from the old primary (pg_replication_slots.synced is false): "
            "it was made on this server, and may have started after changes pgchangeset never "
            "published. Not streaming from it: drop it, create a slot, snapshot again");
    }
    if (!slot.active && slot.confirmed_flush > promotion.acknowledged) {
        throw StreamFailure(
            "replication slot '" + name + "' on the promoted server is at " +
            format_lsn(slot.confirmed_flush) + ", ahead of what pgchangeset acknowledged (" +
            format_lsn(promotion.acknowledged) +
            "): something else moved it, and changes between may be missing from Kafka. Not "
            "streaming from it: snapshot again, or move it back by hand if you know better");
    }
    spdlog::warn(
        "PostgreSQL was promoted (timeline {} -> {}): resuming from slot {}{} at {}; pgchangeset "
        "had acknowledged {} on the old primary: what lies between is sent again (duplicates, "
        "nothing lost)",
        promotion.old_timeline, context.timeline, name, slot.synced ? " (synced copy)" : "",
        format_lsn(slot.confirmed_flush), format_lsn(promotion.acknowledged));
}

void check_slot_may_be_created(const SourceSettings& s, const SourceContext& context) {
    if (context.promotion) {
        throw StreamFailure(
            "replication slot '" + s.slot + "' does not exist on the promoted server (timeline " +
            std::to_string(context.promotion->old_timeline) + " -> " +
            std::to_string(context.timeline) +
            "): its copy was never synchronised to this standby (PostgreSQL before 17, or "
            "postgres.failover false, or the standby's sync_replication_slots off), so the "
            "changes after " +
            format_lsn(context.promotion->acknowledged) +
            " are not in Kafka. Not creating a new slot: create one, snapshot again, then "
            "restart; on PostgreSQL 17+ set postgres.failover: true");
    }
    if (s.failover && context.timeline > 1) {
        throw StreamFailure(
            "replication slot '" + s.slot +
            "' does not exist, postgres.failover is true and the "
            "server was promoted once (timeline " +
            std::to_string(context.timeline) +
            "): if pgchangeset streamed from its old primary, the slot was not synchronised and "
            "creating one now would skip the changes since. Not creating it: on a first start, "
            "create it yourself (SELECT pg_create_logical_replication_slot('" +
            s.slot + "', 'pgoutput', false, false, true)); after a lost slot, snapshot again");
    }
    if (!s.create_slot) {
        throw StreamFailure("replication slot '" + s.slot +
                            "' does not exist and postgres.create_slot is false: create it "
                            "(SELECT pg_create_logical_replication_slot('" +
                            s.slot + "', 'pgoutput')) or allow pgchangeset to");
    }
}

void check_slot_still_usable(const std::optional<SlotInfo>& slot, const std::string& name,
                             Lsn acknowledged) {
    if (!slot || slot->wal_status == "lost") {
        throw StreamFailure("replication slot '" + name + "' " +
                            (slot ? "was invalidated" : "was dropped") +
                            " while pgchangeset ran (or the server is a promoted standby "
                            "without a copy of it): changes after " +
                            format_lsn(acknowledged) +
                            " may be lost. Not creating a new slot: create one, snapshot "
                            "again, then restart");
    }
}

}  // namespace pgcs::source
