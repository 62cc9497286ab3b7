// The halt as the metrics expose it and as `pgchangeset status` reads it back.
#include "core/sink/halt_exposition.hpp"

#include <catch2/catch.hpp>

#include "daemon/metrics.hpp"

using pgcs::daemon::Metrics;
using pgcs::sink::parse_halted;

TEST_CASE("halted: exposed as metrics, read back by status with the key's quotes intact") {
    Metrics m;
    auto view = parse_halted(m.render());
    REQUIRE(view);
    CHECK_FALSE(view->halted);
    CHECK(m.halted_line().empty());
    CHECK(m.render().find("\npgchangeset_halted 0\n") != std::string::npos);

    m.set_halted({"broker_message_size", "public.t", "p.public.t", R"({"id":"a\"b"})", 2000123});
    const std::string text = m.render();
    INFO(text);
    CHECK(text.find("\npgchangeset_halted 1\n") != std::string::npos);
    CHECK(
        text.find(
            R"(pgchangeset_halted_event_bytes{reason="broker_message_size",table="public.t",topic="p.public.t",key="{\"id\":\"a\\\"b\"}"} 2000123)") !=
        std::string::npos);
    view = parse_halted(text);
    REQUIRE(view);
    CHECK(view->halted);
    CHECK(view->reason == "broker_message_size");
    CHECK(view->table == "public.t");
    CHECK(view->topic == "p.public.t");
    CHECK(view->key == R"({"id":"a\"b"})");
    CHECK(view->bytes == "2000123");
    CHECK(m.halted_line() ==
          "halted (broker_message_size): an event of 2000123 bytes on public.t (key "
          "{\"id\":\"a\\\"b\"}) is too large for Kafka; see the log for what to do\n");

    m.clear_halted();
    CHECK_FALSE(parse_halted(m.render())->halted);
    CHECK_FALSE(parse_halted("no metrics here\n").has_value());
}
