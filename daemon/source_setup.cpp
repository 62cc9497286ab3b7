// Start-up checks and the publication/slot set-up.
#include "daemon/source_setup.hpp"

#include <spdlog/spdlog.h>

#include "core/encode/changeset_encoder.hpp"
#include "core/source/failover_state.hpp"
#include "core/source/pg_connection.hpp"
#include "core/source/server_identity.hpp"
#include "core/source/server_version.hpp"

namespace pgcs::daemon {

namespace {

void check_server(PGconn* conn, const source::Catalog& catalog, const config::PostgresConfig& pg,
                  const SourceContext& context) {
    const int version = catalog.server_version();
    const auto verdict = source::judge_server_version(version);
    if (verdict.kind == source::ServerVersionVerdict::Kind::TooOld) {
        throw source::UnsupportedServer(verdict.message);
    }
    if (verdict.kind == source::ServerVersionVerdict::Kind::Untested) {
        spdlog::warn("{}", verdict.message);
    }
    if (pg.failover && version < 170000) {
        throw ConfigFailure(
            "postgres.failover needs PostgreSQL 17 or later (the server is " +
            std::to_string(version) +
            "): older servers do not copy logical slots to standbys. Set it to false; after a "
            "failover create a new slot and snapshot again (README, \"Upgrades and high "
            "availability\")");
    }
    if (pg.failover && context.in_recovery) {
        throw ConfigFailure(
            "postgres.failover is true but postgres.conninfo reaches a standby: a failover slot "
            "is made on the primary (its copies on standbys are PostgreSQL's). Point conninfo "
            "at the primary (host=primary,standby target_session_attrs=read-write), or set "
            "failover to false to decode from this standby");
    }
    if (pg.binary && version < 140000) {
        throw StreamFailure("postgres.binary needs PostgreSQL 14 or later (the server is " +
                            std::to_string(version) + "): set it to false");
    }
    if (pg.messages && version < 140000) {
        throw StreamFailure("postgres.messages needs PostgreSQL 14 or later (the server is " +
                            std::to_string(version) + "): set it to false");
    }
    if (context.in_recovery && version < 160000) {
        throw StreamFailure("postgres.conninfo reaches a standby, and PostgreSQL " +
                            std::to_string(version) +
                            " decodes only on a primary (16 or later decodes on a standby): "
                            "point conninfo at the primary");
    }
    auto wal_level = source::exec(conn, "SHOW wal_level");
    const std::string level = PQgetvalue(wal_level.get(), 0, 0);
    if (level != "logical") {
        throw StreamFailure("wal_level is '" + level +
                            "', logical replication needs 'logical': set wal_level = logical in "
                            "postgresql.conf and restart PostgreSQL");
    }
}

// Tables whose events will have a null key, or whose UPDATE/DELETE PostgreSQL will refuse.
void warn_about_keys(PGconn* conn, const std::vector<source::TableName>& tables) {
    for (const auto& t : tables) {
        auto r = source::exec(conn,
                              "SELECT c.relreplident, EXISTS (SELECT 1 FROM pg_index i WHERE "
                              "i.indrelid = c.oid AND i.indisprimary), EXISTS (SELECT 1 FROM "
                              "pg_index i WHERE i.indrelid = c.oid AND i.indisreplident) "
                              "FROM pg_class c WHERE c.oid = $1::regclass",
                              {t.quoted});
        const char identity = PQgetvalue(r.get(), 0, 0)[0];
        const bool pk = std::string(PQgetvalue(r.get(), 0, 1)) == "t";
        const bool index = std::string(PQgetvalue(r.get(), 0, 2)) == "t";
        if (!pk && !index) {
            spdlog::warn(
                "table {}.{} has neither a primary key nor a replica identity index: "
                "its events have a null Kafka key (no per-key order){}",
                t.schema, t.name,
                identity == 'f' ? ""
                                : ", and PostgreSQL refuses UPDATE and DELETE on it "
                                  "until it has one (or REPLICA IDENTITY FULL)");
        }
    }
}

// On a standby nothing can be created: the publication must come from the primary, complete.
void check_standby_publication(const source::Catalog& catalog, const config::PostgresConfig& pg,
                               const std::vector<source::TableName>& tables) {
    if (!catalog.publication_exists(pg.publication)) {
        throw StreamFailure("publication '" + pg.publication +
                            "' does not exist, and postgres.conninfo reaches a standby, where "
                            "nothing can be created: create it on the primary (CREATE "
                            "PUBLICATION ... FOR TABLE ...)");
    }
    const auto published = catalog.publication_tables(pg.publication);
    std::string missing;
    for (const auto& t : tables) {
        bool found = false;
        for (const auto& p : published) {
            found = found || (p.schema == t.schema && p.name == t.name);
        }
        if (!found) {
            missing += (missing.empty() ? "" : ", ") + t.quoted;
        }
    }
    if (!missing.empty()) {
        throw StreamFailure("publication '" + pg.publication + "' lacks " + missing +
                            ", and postgres.conninfo reaches a standby: add them on the primary "
                            "(ALTER PUBLICATION ... ADD TABLE ...)");
    }
}

// After a promotion: the slot is the copy synchronised from the old primary, and not ahead of
// what was acknowledged there (ahead: something else moved it, and the changes between would be
// skipped). A slot another process streams is left to it: the daemon waits as a standby.
void check_promoted_slot(const source::Catalog& catalog, const std::string& name,
                         const source::SlotInfo& slot, const SourceContext& context) {
    const auto& promotion = *context.promotion;
    // A slot made on this server while it was a standby is the one streamed: not a synced copy.
    if (catalog.server_version() >= 170000 && !slot.synced && !promotion.from_standby) {
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

// postgres.failover on a slot made without it: set it (the slot is not in use, or it is another
// pgchangeset's that will set it too). Keeping a non-failover slot would lose it at a promotion.
// Returns whether it set it just now.
bool make_failover_slot(const config::PostgresConfig& pg, const source::SlotInfo& slot) {
    if (slot.failover) {
        return false;
    }
    if (slot.active) {
        spdlog::warn(
            "replication slot {} is not a failover slot (postgres.failover is true) and another "
            "process streams it: it is set once pgchangeset starts on the free slot",
            pg.slot);
        return false;
    }
    auto repl = source::connect({pg.conninfo, pg.password, "pgchangeset-failover"}, true);
    source::enable_slot_failover(repl.get(), pg.slot);
    spdlog::warn(
        "replication slot {} was not a failover slot: set FAILOVER true "
        "(ALTER_REPLICATION_SLOT), as postgres.failover asks; standbys with "
        "sync_replication_slots copy it from now on",
        pg.slot);
    return true;
}

// The server settings failover depends on, as far as the primary and the standby show them.
// `created`: the slot is new (or newly a failover slot), and the standby copies it within
// seconds (its slot sync worker).
void log_failover_state(PGconn* conn, const config::PostgresConfig& pg, bool created) {
    const auto state =
        source::inspect_failover(conn, pg.slot, {pg.conninfo, pg.password, "pgchangeset"});
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

}  // namespace

// Whether the user may replicate is the server's answer, not the catalog's: a replication
// connection is opened (and closed) before anything is created. Amazon RDS and Aurora grant
// replication through membership in rds_replication, which plain PostgreSQL's catalog cannot
// tell from a membership that passes nothing on (REPLICATION is never inherited there); the
// catalog only explains the outcome in the log.
source::PgConnPtr connect_replication_checked(PGconn* conn,
                                              const source::ConnectionSettings& settings) {
    auto role = source::exec(conn,
                             "SELECT current_user, rolsuper OR rolreplication, coalesce((SELECT "
                             "string_agg(m.rolname, ', ' ORDER BY m.rolname) FROM pg_roles m "
                             "WHERE m.rolname IN ('rds_replication', 'rds_superuser') AND "
                             "pg_has_role(current_user, m.oid, 'MEMBER')), '') "
                             "FROM pg_roles WHERE rolname = current_user");
    const std::string user = PQgetvalue(role.get(), 0, 0);
    const bool attribute = std::string(PQgetvalue(role.get(), 0, 1)) == "t";
    const std::string member_of = PQgetvalue(role.get(), 0, 2);
    source::PgConnPtr replication;
    try {
        replication = source::connect(settings, true);
    } catch (const source::PgError& e) {
        if (e.sqlstate() != source::sqlstate::kInsufficientPrivilege ||
            e.origin() != source::PgErrorOrigin::ReplicationConnect) {
            throw;
        }
        throw StreamFailure(
            "PostgreSQL refuses replication to user " + user + " (SQLSTATE 42501): " + e.what() +
            "\nwhat to do: " + source::classify_pg_error(e.sqlstate(), e.origin()).advice +
            (member_of.empty() ? std::string()
                               : ". The user is a member of " + member_of +
                                     ", which grants replication on Amazon RDS and Aurora "
                                     "only: this server is not one"));
    }
    if (!attribute) {
        spdlog::info(
            "user {} has no REPLICATION attribute{}, and the server accepts its replication "
            "connection{}",
            user, member_of.empty() ? "" : " but is a member of " + member_of,
            member_of.empty() ? " (a managed service's own rule)" : " (Amazon RDS/Aurora)");
    }
    return replication;
}

Lsn prepare_source(PGconn* conn, const source::Catalog& catalog, const config::PostgresConfig& pg,
                   const std::function<bool(bool slot_missing)>& before_slot,
                   std::optional<source::ExportedSnapshot>* exported,
                   const SourceContext& context) {
    check_server(conn, catalog, pg, context);
    const auto tables = catalog.resolve_tables(pg.tables);
    warn_about_keys(conn, tables);
    if (context.in_recovery) {
        check_standby_publication(catalog, pg, tables);
    } else if (!pg.create_publication && !catalog.publication_exists(pg.publication)) {
        throw StreamFailure("publication '" + pg.publication +
                            "' does not exist and postgres.create_publication is false: create "
                            "it (CREATE PUBLICATION ... FOR TABLE ...) or allow pgchangeset to");
    }
    if (!context.in_recovery) {
        if (auto what =
                catalog.ensure_publication(pg.publication, pg.publish_via_partition_root, tables);
            !what.empty()) {
            spdlog::info("{}", what);
        }
    }
    if (auto missing = catalog.generated_columns_warning(pg.publication); !missing.empty()) {
        spdlog::warn("{}", missing);
    }
    if (auto slot = catalog.slot(pg.slot)) {
        if (slot->plugin != "pgoutput") {
            throw StreamFailure("replication slot '" + pg.slot + "' uses plugin '" + slot->plugin +
                                "', not pgoutput: choose another postgres.slot");
        }
        if (slot->database != catalog.current_database()) {
            throw StreamFailure("replication slot '" + pg.slot + "' belongs to database '" +
                                slot->database + "': choose another postgres.slot");
        }
        if (slot->wal_status == "lost") {
            throw StreamFailure("replication slot '" + pg.slot +
                                "' was invalidated (wal_status lost): the changes it held are "
                                "gone. Drop it and snapshot again; pgchangeset will not silently "
                                "continue from a gap");
        }
        if (context.promotion) {
            check_promoted_slot(catalog, pg.slot, *slot, context);
        }
        if (pg.failover) {
            // Just made a failover slot: new to the standby, copied within seconds.
            log_failover_state(conn, pg, make_failover_slot(pg, *slot));
        }
        if (before_slot) {
            before_slot(false);
        }
        spdlog::info("slot {} resumes after {}", pg.slot, format_lsn(slot->confirmed_flush));
        return slot->confirmed_flush;
    }
    if (context.promotion) {
        throw StreamFailure(
            "replication slot '" + pg.slot + "' does not exist on the promoted server (timeline " +
            std::to_string(context.promotion->old_timeline) + " -> " +
            std::to_string(context.timeline) +
            "): its copy was never synchronised to this standby (PostgreSQL before 17, or "
            "postgres.failover false, or the standby's sync_replication_slots off), so the "
            "changes after " +
            format_lsn(context.promotion->acknowledged) +
            " are not in Kafka. Not creating a new slot: create one, snapshot again, then "
            "restart; on PostgreSQL 17+ set postgres.failover: true");
    }
    if (pg.failover && context.timeline > 1) {
        throw StreamFailure(
            "replication slot '" + pg.slot +
            "' does not exist, postgres.failover is true and the "
            "server was promoted once (timeline " +
            std::to_string(context.timeline) +
            "): if pgchangeset streamed from its old primary, the slot was not synchronised and "
            "creating one now would skip the changes since. Not creating it: on a first start, "
            "create it yourself (SELECT pg_create_logical_replication_slot('" +
            pg.slot + "', 'pgoutput', false, false, true)); after a lost slot, snapshot again");
    }
    if (!pg.create_slot) {
        throw StreamFailure("replication slot '" + pg.slot +
                            "' does not exist and postgres.create_slot is false: create it "
                            "(SELECT pg_create_logical_replication_slot('" +
                            pg.slot + "', 'pgoutput')) or allow pgchangeset to");
    }
    const bool export_snapshot = before_slot && before_slot(true) && exported != nullptr;
    if (context.in_recovery) {
        spdlog::info(
            "creating replication slot {} on a standby: PostgreSQL waits for the primary to log "
            "its running transactions (the primary's background writer does so within 15 s "
            "while the primary writes; an idle primary never does: run SELECT "
            "pg_log_standby_snapshot() on the primary)",
            pg.slot);
    } else {
        spdlog::info(
            "creating replication slot {}{} (PostgreSQL waits for the transactions running "
            "now to end)",
            pg.slot, pg.failover ? " with failover" : "");
    }
    Lsn created = 0;
    if (export_snapshot) {
        // The connection needs the same settings as the daemon's: the caller's conninfo.
        *exported = source::create_slot_exporting(
            {pg.conninfo, pg.password, "pgchangeset-snapshot-export"}, pg.slot, pg.failover);
        created = (*exported)->consistent_point;
        spdlog::info("slot {} created with its snapshot {} exported, for tables without a key",
                     pg.slot, (*exported)->name);
    } else {
        created = catalog.create_slot(pg.slot, pg.failover);
    }
    if (pg.failover) {
        log_failover_state(conn, pg, true);
    }
    spdlog::warn(
        "created replication slot {} at {}: changes committed before it are not "
        "captured",
        pg.slot, format_lsn(created));
    return created;
}

void check_slot_still_usable(const source::Catalog& catalog, const std::string& slot_name,
                             Lsn acknowledged) {
    const auto slot = catalog.slot(slot_name);
    if (!slot || slot->wal_status == "lost") {
        throw StreamFailure("replication slot '" + slot_name + "' " +
                            (slot ? "was invalidated" : "was dropped") +
                            " while pgchangeset ran (or the server is a promoted standby "
                            "without a copy of it): changes after " +
                            format_lsn(acknowledged) +
                            " may be lost. Not creating a new slot: create one, snapshot "
                            "again, then restart");
    }
}

encode::FormatSettings format_settings_from(const config::Config& config) {
    encode::FormatSettings f;
    if (config.kafka.format != config::EventFormat::Debezium) {
        return f;
    }
    f.format = encode::Format::Debezium;
    encode::DebeziumSettings& d = f.debezium;
    d.topic_prefix = config.kafka.topic_prefix;
    d.schemas = config.kafka.schemas;
    using Decimal = config::DebeziumConfig::DecimalMode;
    switch (config.kafka.debezium.decimal_handling_mode) {
        case Decimal::Precise:
            d.types.decimal = encode::debezium::DecimalMode::Precise;
            break;
        case Decimal::String:
            d.types.decimal = encode::debezium::DecimalMode::String;
            break;
        case Decimal::Double:
            d.types.decimal = encode::debezium::DecimalMode::Double;
            break;
    }
    d.types.time =
        config.kafka.debezium.time_precision_mode == config::DebeziumConfig::TimeMode::Connect
            ? encode::debezium::TimeMode::Connect
            : encode::debezium::TimeMode::Adaptive;
    d.skipped_operations = config.kafka.debezium.skipped_operations;
    d.version = std::string("pgchangeset-") + PGCS_VERSION;
    return f;
}

std::string messages_topic_from(const config::Config& config) {
    if (!config.kafka.messages_topic.empty()) {
        return config.kafka.messages_topic;
    }
    // Debezium's topic for logical decoding messages is <topic.prefix>.message.
    return config.kafka.topic_prefix +
           (config.kafka.format == config::EventFormat::Debezium ? ".message" : ".messages");
}

snapshot::SnapshotSettings snapshot_settings_from(const config::Config& config) {
    snapshot::SnapshotSettings s;
    s.connection = {config.postgres.conninfo, config.postgres.password, "pgchangeset-snapshot"};
    s.slot = config.postgres.slot;
    s.publication = config.postgres.publication;
    s.read_timeout_ms = config.postgres.read_timeout_ms;
    switch (config.snapshot.mode) {
        case config::SnapshotMode::Initial:
            s.mode = snapshot::SnapshotMode::Initial;
            break;
        case config::SnapshotMode::Never:
            s.mode = snapshot::SnapshotMode::Never;
            break;
        case config::SnapshotMode::InitialOnly:
            s.mode = snapshot::SnapshotMode::InitialOnly;
            break;
        case config::SnapshotMode::Always:
            s.mode = snapshot::SnapshotMode::Always;
            break;
    }
    s.mode_name = config::snapshot_mode_name(config.snapshot.mode);
    s.chunk_size = config.snapshot.chunk_size;
    s.connections = config.snapshot.connections;
    s.progress_schema = config.snapshot.table_name.schema;
    s.progress_table = config.snapshot.table_name.table;
    s.format = format_settings_from(config);
    return s;
}

}  // namespace pgcs::daemon
