// Prometheus text format: https://prometheus.io/docs/instrumenting/exposition_formats/
#include "daemon/metrics.hpp"

#include <cstdio>

namespace pgcs::daemon {

namespace {

// Label values escape backslash, double quote and newline.
std::string escape_label(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void sample(std::string& out, const std::string& name_and_labels, double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.17g\n", value);
    out += name_and_labels;
    out += buf;
}

void sample(std::string& out, const std::string& name_and_labels, std::uint64_t value) {
    out += name_and_labels;
    out += ' ';
    out += std::to_string(value);
    out += '\n';
}

}  // namespace

void Metrics::count_events(std::string_view op, std::string_view table, std::uint64_t count,
                           std::size_t bytes) {
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
    std::lock_guard lock(events_mutex_);
    auto it = events_.find(EventKeyView{op, table});
    if (it == events_.end()) {
        it = events_.emplace(std::make_pair(std::string(op), std::string(table)), 0).first;
    }
    it->second += count;
}

void Metrics::count_snapshot_rows(std::string_view table, std::uint64_t rows) {
    std::lock_guard lock(events_mutex_);
    auto it = snapshot_rows_.find(table);
    if (it == snapshot_rows_.end()) {
        it = snapshot_rows_.emplace(std::string(table), 0).first;
    }
    it->second += rows;
}

void Metrics::set_halted(Halted h) {
    std::lock_guard lock(halted_mutex_);
    halted_ = std::make_unique<Halted>(std::move(h));
}

void Metrics::clear_halted() {
    std::lock_guard lock(halted_mutex_);
    halted_.reset();
}

std::string Metrics::halted_line() const {
    std::lock_guard lock(halted_mutex_);
    if (!halted_) {
        return "";
    }
    return "halted (" + halted_->reason + "): an event of " + std::to_string(halted_->bytes) +
           " bytes on " + halted_->table + " (key " +
           (halted_->key.empty() ? std::string("null") : halted_->key) +
           ") is too large for Kafka; see the log for what to do\n";
}

void Metrics::count_reconnect(std::string_view target) {
    (target == "kafka" ? reconnects_kafka_ : reconnects_postgres_)
        .fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render() const {
    std::string out;
    header(out, "pgchangeset_events_total", "counter", "Events handed to Kafka, by op and table.");
    {
        std::lock_guard lock(events_mutex_);
        for (const auto& [key, n] : events_) {
            sample(out,
                   "pgchangeset_events_total{op=\"" + escape_label(key.first) + "\",table=\"" +
                       escape_label(key.second) + "\"}",
                   n);
        }
    }
    header(out, "pgchangeset_bytes_total", "counter", "Bytes of keys and values handed to Kafka.");
    sample(out, "pgchangeset_bytes_total", bytes_.load());
    header(out, "pgchangeset_lag_seconds", "gauge",
           "Now minus the commit time of the last acknowledged transaction (0 when caught up).");
    sample(out, "pgchangeset_lag_seconds", lag_seconds_.load());
    header(out, "pgchangeset_lag_bytes", "gauge",
           "Server WAL end minus the position acknowledged to PostgreSQL.");
    sample(out, "pgchangeset_lag_bytes", lag_bytes_.load());
    header(out, "pgchangeset_slot_retained_wal_bytes", "gauge",
           "WAL the replication slot keeps on the server (current LSN minus restart_lsn).");
    sample(out, "pgchangeset_slot_retained_wal_bytes", retained_.load());
    header(out, "pgchangeset_kafka_inflight", "gauge",
           "Events handed to Kafka and not yet acknowledged.");
    sample(out, "pgchangeset_kafka_inflight", inflight_.load());
    header(out, "pgchangeset_kafka_errors_total", "counter", "Events Kafka refused.");
    sample(out, "pgchangeset_kafka_errors_total", kafka_errors_.load());
    header(out, "pgchangeset_reconnects_total", "counter",
           "Reconnects to PostgreSQL and waits for an unreachable Kafka.");
    sample(out, "pgchangeset_reconnects_total{target=\"postgres\"}", reconnects_postgres_.load());
    sample(out, "pgchangeset_reconnects_total{target=\"kafka\"}", reconnects_kafka_.load());
    header(out, "pgchangeset_snapshot_rows_total", "counter",
           "Snapshot rows handed to Kafka (op read), by table.");
    {
        std::lock_guard lock(events_mutex_);
        for (const auto& [table, n] : snapshot_rows_) {
            sample(out, "pgchangeset_snapshot_rows_total{table=\"" + escape_label(table) + "\"}",
                   n);
        }
    }
    header(out, "pgchangeset_snapshot_tables_remaining", "gauge",
           "Tables whose snapshot is requested and not finished.");
    sample(out, "pgchangeset_snapshot_tables_remaining", snapshot_tables_.load());
    {
        std::lock_guard lock(halted_mutex_);
        header(out, "pgchangeset_halted", "gauge",
               "1 while halted on an event Kafka refuses for its size (retried on a timer).");
        sample(out, "pgchangeset_halted", static_cast<std::uint64_t>(halted_ ? 1 : 0));
        header(out, "pgchangeset_halted_event_bytes", "gauge",
               "While halted: the size (key + value) of the event refused, with why, its table, "
               "topic and key.");
        if (halted_) {
            sample(out,
                   "pgchangeset_halted_event_bytes{reason=\"" + escape_label(halted_->reason) +
                       "\",table=\"" + escape_label(halted_->table) + "\",topic=\"" +
                       escape_label(halted_->topic) + "\",key=\"" + escape_label(halted_->key) +
                       "\"}",
                   halted_->bytes);
        }
    }
    header(out, "pgchangeset_up", "gauge", "1 while streaming from PostgreSQL.");
    sample(out, "pgchangeset_up", static_cast<std::uint64_t>(up_.load()));
    return out;
}

}  // namespace pgcs::daemon
