// What the snapshot coordinator needs to know of the configuration (snapshot.*, and the slot,
// publication and connection of postgres.*), filled in by the daemon from its Config, which
// holds the defaults (README, "Snapshots").
#pragma once

#include <string>

#include "core/encode/encoder_factory.hpp"
#include "core/source/pg_connection.hpp"

namespace pgcs::snapshot {

// When tables are snapshotted without being asked for (snapshot.mode).
enum class SnapshotMode {
    Initial,      // every published table when the slot has no snapshot recorded (new or not)
    Never,        // only on request
    InitialOnly,  // as Initial, then the daemon exits
    Always,       // every published table at every start
};

struct SnapshotSettings {
    source::ConnectionSettings connection;  // of the chunk readers and the catalog reader
    std::string slot;                       // the progress table's rows are the slot's
    std::string publication;                // what a table's rows are read as
    int read_timeout_ms = 0;                // how long a watermark waits for its chunk's rows
    SnapshotMode mode = SnapshotMode::Never;
    std::string mode_name;  // as the configuration spells it, for the log
    int chunk_size = 0;     // rows per chunk
    int connections = 0;    // chunk reader threads
    // The progress and request table, unquoted.
    std::string progress_schema;
    std::string progress_table;
    encode::FormatSettings format;  // kafka.format, for the rows the readers encode
};

}  // namespace pgcs::snapshot
