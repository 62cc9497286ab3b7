// The configuration tree and every default in one place. Loaded from YAML by
// load_config_file(); the README's configuration table documents the same keys.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/web_config.hpp"

namespace pgcs::config {

// A table named in postgres.tables, as PostgreSQL stores the names: an unquoted part folded
// to lower case, a double-quoted part as written without its quotes.
struct TableName {
    std::string schema;
    std::string table;
    bool operator==(const TableName&) const = default;
};

struct PostgresConfig {
    std::string conninfo;       // required; libpq connection string
    std::string password;       // from password_file (secret: never logged)
    std::string password_file;  // optional path; its first line is the password. After
                                // load_config_file, resolved against the config's folder.
    std::string slot = "pgchangeset";
    std::string publication = "pgchangeset";
    std::vector<std::string> tables;     // "schema.table"; empty = every table of the publication
    std::vector<TableName> table_names;  // `tables` parsed, same order
    int status_interval_ms = 1000;       // standby status update period
    bool create_publication = true;      // false: a missing publication is an error
    bool create_slot = true;             // false: a missing slot is an error
    int heartbeat_interval_ms = 10000;   // pg_logical_emit_message heartbeat; 0 = off
    int read_timeout_ms = 30000;         // no message from the server this long: reconnect
    // pgoutput protocol v2 with streaming of large in-progress transactions (PostgreSQL 14+);
    // false, or an older server: v1, the server decodes a transaction only once committed.
    bool streaming = true;
    bool binary = false;                      // pgoutput binary mode (PostgreSQL 14+)
    bool messages = false;                    // publish pg_logical_emit_message messages
    bool publish_via_partition_root = false;  // for a publication pgchangeset creates
    // PostgreSQL 17+: the slot is a failover slot, synchronised to standbys (README, "Upgrades
    // and high availability"); refused on older servers.
    bool failover = false;
};

// kafka.format: the contract's own events, or Debezium's (README, "The Debezium format").
enum class EventFormat { Native, Debezium };

// kafka.debezium: Debezium connector properties the debezium format honours.
struct DebeziumConfig {
    enum class DecimalMode { Precise, String, Double };
    enum class TimeMode { Adaptive, Connect };
    DecimalMode decimal_handling_mode = DecimalMode::Precise;  // decimal.handling.mode
    TimeMode time_precision_mode = TimeMode::Adaptive;         // time.precision.mode
    std::string skipped_operations = "t";  // skipped.operations: c, u, d, t, comma-separated; none
};

struct KafkaConfig {
    std::string brokers;       // required; bootstrap servers
    std::string topic_prefix;  // required; topic = <topic_prefix>.<schema>.<table>
    // Passed to librdkafka as they are, in file order, after the daemon's own defaults.
    std::vector<std::pair<std::string, std::string>> properties;
    int flush_timeout_ms = 30000;  // on shutdown, how long to wait for Kafka to acknowledge
    std::string messages_topic;    // for postgres.messages; empty = <topic_prefix>.messages
    bool tombstones = true;        // a null-value record after each deleted event
    EventFormat format = EventFormat::Native;  // kafka.format
    bool schemas = false;  // kafka.schemas: JsonConverter's schema+payload (debezium only)
    DebeziumConfig debezium;
    // kafka.sasl_password_file: its first line becomes the librdkafka property sasl.password
    // (appended to `properties` by load_config_file; never logged).
    std::string sasl_password_file;
    // kafka.exactly_once: Kafka transactions, each with a progress record (README, "Exactly
    // once"); the keys below it apply to it only.
    bool exactly_once = false;
    std::string progress_topic;           // empty = <topic_prefix>.progress
    int transaction_ms = 20;              // a Kafka transaction commits after this long...
    int transaction_max_events = 100000;  // ...or this many events (never inside a txn)
};

// Where received transactions wait for their commit (and streamed ones for Stream Commit).
struct BufferConfig {
    std::uint64_t memory_limit_bytes = 64ULL << 20;  // above it, transactions spill to disk
    std::string spill_directory = "/var/tmp";        // unlinked temporary files, one per txn
};

struct ReconnectConfig {
    int initial_backoff_ms = 500;  // capped exponential backoff with jitter
    int max_backoff_ms = 30000;
    // Halted on an event Kafka refuses for its size: how long until that transaction is tried
    // again (README, "Halted on an event too large").
    int halted_retry_ms = 60000;
};

struct MetricsConfig {
    std::string listen;  // "host:port"; empty = no HTTP server
    double ready_max_lag_seconds = 60;
    // metrics.web_config_file: TLS and basic auth, as Prometheus exporters take them
    // (config/web_config.hpp); read by load_config_file.
    std::string web_config_file;
    WebConfig web;
};

// Snapshots of the rows that already exist (README, "Snapshots").
enum class SnapshotMode { Initial, Never, InitialOnly, Always };
// The mode's name in the config file ("initial_only"), and back (nullopt for no mode).
std::string_view snapshot_mode_name(SnapshotMode mode);
std::optional<SnapshotMode> snapshot_mode_from_name(std::string_view name);

struct SnapshotConfig {
    SnapshotMode mode = SnapshotMode::Initial;  // initial, never, initial_only, always
    int chunk_size = 10000;                     // rows per chunk (read by key, in key order)
    int connections = 2;                        // chunk readers (threads, one connection each)
    // Progress and on-demand requests, in the source database ("schema.table").
    std::string table = "public.pgchangeset_snapshots";
    TableName table_name{"public", "pgchangeset_snapshots"};  // `table` parsed
};

// The sink section: `pgchangeset sink` applies a pipeline's topics to a target PostgreSQL
// (README, "pgchangeset sink"). Optional: `run` ignores it; `sink` and `history` require it.
enum class SinkMode { Mirror, History };

struct SinkConfig {
    bool present = false;  // the file has a sink section
    std::string conninfo;  // required when present; the target PostgreSQL
    SinkMode mode = SinkMode::Mirror;
    std::string group_id = "pgchangeset-sink";  // Kafka consumer group
    std::vector<std::string> tables;            // "schema.table"; empty = every table
    std::vector<TableName> table_names;         // `tables` parsed, same order
    int batch_rows = 5000;                      // events per target transaction, at most
    int batch_time_ms = 200;  // a batch is committed at least this often while events arrive
};

struct LogConfig {
    std::string level = "info";  // trace, debug, info, warn, error, critical, off
};

struct Config {
    PostgresConfig postgres;
    KafkaConfig kafka;
    BufferConfig buffer;
    ReconnectConfig reconnect;
    MetricsConfig metrics;
    LogConfig log;
    SnapshotConfig snapshot;
    SinkConfig sink;
    // Not a key: what load_config_file noticed that is allowed but unwise (a password file
    // others can read), one message each, for the caller to log.
    std::vector<std::string> warnings;
};

// One problem found in a configuration file.
struct ConfigProblem {
    std::string file;
    int line = 0;     // 1-based; 0 when unknown
    std::string key;  // dotted path, e.g. "kafka.brokers"
    std::string message;
    std::string to_string() const;  // "FILE:LINE: KEY: MESSAGE" ("FILE:LINE: MESSAGE" if no key)
};

// Thrown when a configuration has problems; holds all of them, not only the first, ordered by
// line. what() is every problem's to_string(), one per line.
class ConfigError : public std::runtime_error {
  public:
    explicit ConfigError(std::vector<ConfigProblem> problems);
    const std::vector<ConfigProblem>& problems() const { return problems_; }

  private:
    std::vector<ConfigProblem> problems_;
};

// Looks up an environment variable; std::nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> process_env(const std::string& name);

// Parses and validates YAML text. `file_name` is used in problems only. Throws ConfigError.
// Does not read password_file (it has no folder to resolve it against): load_config_file does.
Config load_config_string(std::string_view yaml, const std::string& file_name,
                          const EnvLookup& env = process_env);

// Reads, parses and validates a file (and reads password_file if set). Throws ConfigError; a
// file that is not a regular file, or larger than 1 MiB (a password file: 64 KiB), is one.
Config load_config_file(const std::string& path, const EnvLookup& env = process_env);

}  // namespace pgcs::config
