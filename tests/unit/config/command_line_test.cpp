// The command line: which options each command takes, and the messages of a bad one.
#include "config/command_line.hpp"

#include <catch2/catch.hpp>

using pgcs::config::CommandLineResult;
using pgcs::config::kUsage;
using pgcs::config::parse_command_line;
using Kind = CommandLineResult::Kind;

TEST_CASE("command line: each command with its options") {
    auto r = parse_command_line({"run", "-c", "a.yaml", "--log-level=debug"});
    REQUIRE(r.kind == Kind::Command);
    CHECK(r.line.command == "run");
    CHECK(r.line.config == "a.yaml");
    CHECK(r.line.log_level == "debug");

    r = parse_command_line({"history", "--config=b.yaml", "--table", "s.t", "--key", "{\"id\":1}",
                            "--as-of", "2026-01-01"});
    REQUIRE(r.kind == Kind::Command);
    CHECK(r.line.config == "b.yaml");
    CHECK(r.line.table == "s.t");
    CHECK(r.line.key == "{\"id\":1}");
    CHECK(r.line.as_of == "2026-01-01");

    r = parse_command_line({"snapshot", "--config", "c", "--table", "s.t", "--where", "id > 1"});
    REQUIRE(r.kind == Kind::Command);
    CHECK(r.line.where == "id > 1");

    CHECK(parse_command_line({"--version"}).kind == Kind::Version);
    CHECK(parse_command_line({"version"}).kind == Kind::Version);
    CHECK(parse_command_line({"-h"}).kind == Kind::Help);
    CHECK(parse_command_line({"help", "whatever"}).kind == Kind::Help);
}

TEST_CASE("command line: a bad one names what is wrong") {
    auto error = [](std::vector<std::string> args) {
        const CommandLineResult r = parse_command_line(args);
        CHECK(r.kind == Kind::Error);
        return r.error;
    };
    CHECK(error({}) == std::string("pgchangeset: no command given\n") + kUsage);
    CHECK(error({"run", "--config"}) ==
          std::string("pgchangeset: --config needs a value\n") + kUsage);
    CHECK(error({"run", "--as-of"}) ==
          std::string("pgchangeset: --as-of needs a value\n") + kUsage);
    CHECK(error({"run", "--bogus"}) ==
          std::string("pgchangeset: unknown argument '--bogus'\n") + kUsage);
    CHECK(error({"start", "-c", "a"}) ==
          std::string("pgchangeset: unknown command 'start'\n") + kUsage);
    CHECK(error({"status"}) == "pgchangeset: status needs --config FILE\n");
    const std::string history_msg =
        "pgchangeset: --key and --as-of belong to the history command, which needs --table "
        "SCHEMA.TABLE and --key JSON\n";
    CHECK(error({"history", "-c", "a", "--table", "s.t"}) == history_msg);
    CHECK(error({"history", "-c", "a", "--key", "{}"}) == history_msg);
    CHECK(error({"run", "-c", "a", "--as-of", "x"}) == history_msg);
    const std::string snapshot_msg =
        "pgchangeset: --table and --where belong to the snapshot command, which needs --table "
        "SCHEMA.TABLE\n";
    CHECK(error({"snapshot", "-c", "a"}) == snapshot_msg);
    CHECK(error({"run", "-c", "a", "--table", "s.t"}) == snapshot_msg);
    CHECK(error({"history", "-c", "a", "--table", "s.t", "--key", "{}", "--where", "x"}) ==
          snapshot_msg);
    CHECK(error({"run", "-c", "a", "--log-level", "loud"}) ==
          "pgchangeset: --log-level must be one of trace, debug, info, warn, error, critical, "
          "off\n");
}
