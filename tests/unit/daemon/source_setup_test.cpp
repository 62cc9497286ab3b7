// snapshot_settings_from: what the snapshot coordinator gets of the configuration.
#include "daemon/source_setup.hpp"

#include <catch2/catch.hpp>
#include <utility>

using pgcs::config::Config;

TEST_CASE("snapshot settings: every snapshot.mode maps to the same mode, named as configured") {
    namespace config = pgcs::config;
    namespace snapshot = pgcs::snapshot;
    for (const auto& [from, to] :
         {std::pair{config::SnapshotMode::Initial, snapshot::SnapshotMode::Initial},
          std::pair{config::SnapshotMode::Never, snapshot::SnapshotMode::Never},
          std::pair{config::SnapshotMode::InitialOnly, snapshot::SnapshotMode::InitialOnly},
          std::pair{config::SnapshotMode::Always, snapshot::SnapshotMode::Always}}) {
        Config c;
        c.snapshot.mode = from;
        const auto s = pgcs::daemon::snapshot_settings_from(c);
        CHECK(s.mode == to);
        CHECK(s.mode_name == config::snapshot_mode_name(from));
    }
}

TEST_CASE("snapshot settings: the slot, publication, connection, chunks and progress table") {
    Config c;
    c.postgres.conninfo = "host=db dbname=app";
    c.postgres.password = "secret";
    c.postgres.slot = "cdc_slot";
    c.postgres.publication = "cdc_pub";
    c.postgres.read_timeout_ms = 12345;
    c.snapshot.chunk_size = 777;
    c.snapshot.connections = 3;
    c.snapshot.table_name = {"ops", "progress"};
    const auto s = pgcs::daemon::snapshot_settings_from(c);
    CHECK(s.connection.conninfo == "host=db dbname=app");
    CHECK(s.connection.password == "secret");
    CHECK(s.connection.application_name == "pgchangeset-snapshot");
    CHECK(s.slot == "cdc_slot");
    CHECK(s.publication == "cdc_pub");
    CHECK(s.read_timeout_ms == 12345);
    CHECK(s.chunk_size == 777);
    CHECK(s.connections == 3);
    CHECK(s.progress_schema == "ops");
    CHECK(s.progress_table == "progress");
}
