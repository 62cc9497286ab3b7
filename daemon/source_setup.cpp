// The configuration translated into the core stages' settings; see source_setup.hpp.
#include "daemon/source_setup.hpp"

#include "core/encode/changeset_encoder.hpp"

namespace pgcs::daemon {

source::SourceSettings source_settings_from(const config::PostgresConfig& pg) {
    source::SourceSettings s;
    s.connection = {pg.conninfo, pg.password, "pgchangeset"};
    s.slot = pg.slot;
    s.publication = pg.publication;
    s.tables = pg.tables;
    s.create_publication = pg.create_publication;
    s.create_slot = pg.create_slot;
    s.publish_via_partition_root = pg.publish_via_partition_root;
    s.binary = pg.binary;
    s.messages = pg.messages;
    s.failover = pg.failover;
    return s;
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

sink::SinkSettings sink_settings_from(const config::Config& config) {
    return {config.kafka.brokers, config.kafka.properties,
            config.kafka.exactly_once
                ? "pgchangeset." + config.kafka.topic_prefix + "." + config.postgres.slot
                : ""};
}

sink::BatchLimits batch_limits_from(const config::Config& config) {
    return {std::chrono::milliseconds(config.kafka.transaction_ms),
            static_cast<std::uint64_t>(config.kafka.transaction_max_events),
            config.kafka.flush_timeout_ms};
}

std::string progress_topic_from(const config::Config& config) {
    return config.kafka.progress_topic.empty() ? config.kafka.topic_prefix + ".progress"
                                               : config.kafka.progress_topic;
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
