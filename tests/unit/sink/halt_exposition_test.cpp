// The halt samples of a /metrics text, as `pgchangeset status` reads them.
#include "core/sink/halt_exposition.hpp"

#include <catch2/catch.hpp>

using pgcs::sink::parse_halted;

TEST_CASE("halt exposition: labels unescaped, nullopt without a halt sample") {
    const auto view = parse_halted(
        "# TYPE pgchangeset_halted gauge\n"
        "pgchangeset_halted 1\n"
        "pgchangeset_halted_event_bytes{reason=\"message_size\",table=\"s.t\",topic=\"p.s.t\","
        "key=\"{\\\"k\\\":\\\"a\\\\nb\\\"}\"} 42\n");
    REQUIRE(view);
    CHECK(view->halted);
    CHECK(view->reason == "message_size");
    CHECK(view->table == "s.t");
    CHECK(view->topic == "p.s.t");
    CHECK(view->key == "{\"k\":\"a\\nb\"}");
    CHECK(view->bytes == "42");

    const auto idle = parse_halted("pgchangeset_halted 0");
    REQUIRE(idle);
    CHECK_FALSE(idle->halted);
    CHECK(idle->key.empty());
    CHECK_FALSE(parse_halted("").has_value());
    CHECK_FALSE(parse_halted("pgchangeset_halted_event_bytes{reason=\"x\"} 1\n").has_value());
}
