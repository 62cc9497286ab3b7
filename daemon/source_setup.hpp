// The configuration translated into the settings of the core stages the stream loop wires:
// the source's set-up, the snapshot coordinator, the encoders.
#pragma once

#include <string>

#include "config/config.hpp"
#include "core/sink/exactly_once_batch.hpp"
#include "core/snapshot/snapshot_settings.hpp"
#include "core/source/source_settings.hpp"

namespace pgcs::daemon {

// postgres.*, for the start-up checks and the publication/slot set-up
// (core/source/source_preparation.hpp).
source::SourceSettings source_settings_from(const config::PostgresConfig& pg);
// What the snapshot coordinator reads of the configuration (snapshot.*, the slot, the
// publication, the connection of its readers).
snapshot::SnapshotSettings snapshot_settings_from(const config::Config& config);
// kafka.format and kafka.debezium, for the encoders.
encode::FormatSettings format_settings_from(const config::Config& config);
// Where logical decoding messages go: kafka.messages_topic, else the format's default.
std::string messages_topic_from(const config::Config& config);
// The producer's settings: transactional (pgchangeset.<topic_prefix>.<slot>) under
// kafka.exactly_once.
sink::SinkSettings sink_settings_from(const config::Config& config);
// kafka.exactly_once's batches and progress topic (<topic_prefix>.progress by default).
sink::BatchLimits batch_limits_from(const config::Config& config);
std::string progress_topic_from(const config::Config& config);

}  // namespace pgcs::daemon
