#include "daemon/metrics.hpp"

#include <catch2/catch.hpp>
#include <sstream>

using pgcs::daemon::Metrics;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        if (l == line) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("every metric is exposed with HELP and TYPE, starting from zero") {
    Metrics m;
    const std::string text = m.render();
    for (const char* name :
         {"pgchangeset_events_total", "pgchangeset_bytes_total", "pgchangeset_lag_seconds",
          "pgchangeset_lag_bytes", "pgchangeset_slot_retained_wal_bytes",
          "pgchangeset_kafka_inflight", "pgchangeset_kafka_errors_total",
          "pgchangeset_reconnects_total", "pgchangeset_snapshot_rows_total",
          "pgchangeset_snapshot_tables_remaining", "pgchangeset_up", "pgchangeset_halted",
          "pgchangeset_halted_event_bytes"}) {
        INFO(name);
        CHECK(text.find(std::string("# HELP ") + name + " ") != std::string::npos);
        CHECK(text.find(std::string("# TYPE ") + name + " ") != std::string::npos);
    }
    CHECK(has_line(text, "pgchangeset_up 0"));
    CHECK(has_line(text, "pgchangeset_reconnects_total{target=\"postgres\"} 0"));
    CHECK(has_line(text, "pgchangeset_reconnects_total{target=\"kafka\"} 0"));
}

TEST_CASE("counters and gauges follow what the loop reports") {
    Metrics m;
    m.count_events("added", "public.users", 1, 100);
    m.count_events("added", "public.users", 1, 50);
    m.count_events("deleted", "public.orders", 1, 10);
    m.count_events("read", "public.orders", 2500, 1000);  // a snapshot chunk at once
    m.count_reconnect("postgres");
    m.count_kafka_error();
    m.set_streaming(true);
    m.set_lag_seconds(1.5);
    m.set_lag_bytes(4096);
    m.set_kafka_inflight(7);
    m.set_slot_retained_wal_bytes(1 << 20);
    const std::string text = m.render();
    CHECK(has_line(text, "pgchangeset_events_total{op=\"added\",table=\"public.users\"} 2"));
    CHECK(has_line(text, "pgchangeset_events_total{op=\"deleted\",table=\"public.orders\"} 1"));
    CHECK(has_line(text, "pgchangeset_events_total{op=\"read\",table=\"public.orders\"} 2500"));
    CHECK(has_line(text, "pgchangeset_bytes_total 1160"));
    CHECK(has_line(text, "pgchangeset_reconnects_total{target=\"postgres\"} 1"));
    CHECK(has_line(text, "pgchangeset_kafka_errors_total 1"));
    CHECK(has_line(text, "pgchangeset_up 1"));
    CHECK(has_line(text, "pgchangeset_lag_seconds 1.5"));
    CHECK(has_line(text, "pgchangeset_lag_bytes 4096"));
    CHECK(has_line(text, "pgchangeset_kafka_inflight 7"));
    CHECK(has_line(text, "pgchangeset_slot_retained_wal_bytes 1048576"));
}

TEST_CASE("snapshot rows add up by table, and the tables left are a gauge") {
    Metrics m;
    m.count_snapshot_rows("public.users", 10000);
    m.count_snapshot_rows("public.users", 42);
    m.count_snapshot_rows("public.orders", 7);
    m.set_snapshot_tables_remaining(2);
    const std::string text = m.render();
    CHECK(has_line(text, "pgchangeset_snapshot_rows_total{table=\"public.users\"} 10042"));
    CHECK(has_line(text, "pgchangeset_snapshot_rows_total{table=\"public.orders\"} 7"));
    CHECK(has_line(text, "pgchangeset_snapshot_tables_remaining 2"));
    m.set_snapshot_tables_remaining(0);
    CHECK(has_line(m.render(), "pgchangeset_snapshot_tables_remaining 0"));
}

TEST_CASE("label values are escaped") {
    Metrics m;
    m.count_events("added", "odd\"schema\\.t\nx", 1, 1);
    CHECK(has_line(m.render(),
                   "pgchangeset_events_total{op=\"added\",table=\"odd\\\"schema\\\\.t\\nx\"} 1"));
}
