// Tests for config/: loading the YAML configuration, defaults, every kind of problem with its
// line and key, ${VAR} expansion, password_file and the shipped example configuration.
#include "config/config.hpp"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

using pgcs::config::Config;
using pgcs::config::ConfigError;
using pgcs::config::ConfigProblem;
using pgcs::config::EnvLookup;
using pgcs::config::load_config_file;
using pgcs::config::load_config_string;
using pgcs::config::TableName;
namespace fs = std::filesystem;

EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

const EnvLookup kNoEnv = env_of({});

constexpr const char* kMinimal = R"(postgres:
  conninfo: "host=db dbname=app"
kafka:
  brokers: "k1:9092"
  topic_prefix: app
)";

Config load(const std::string& yaml, const EnvLookup& env = kNoEnv) {
    return load_config_string(yaml, "test.yaml", env);
}

std::vector<ConfigProblem> problems_of(const std::string& yaml, const EnvLookup& env = kNoEnv) {
    try {
        load(yaml, env);
    } catch (const ConfigError& e) {
        return e.problems();
    }
    FAIL("expected a ConfigError for:\n" << yaml);
    return {};
}

// Expects exactly one problem, at `line` on `key`, whose message contains `text`.
void expect_problem(const std::string& yaml, int line, const std::string& key,
                    const std::string& text, const EnvLookup& env = kNoEnv) {
    std::vector<ConfigProblem> problems = problems_of(yaml, env);
    INFO(yaml);
    for (const ConfigProblem& p : problems) {
        INFO(p.to_string());
    }
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].file == "test.yaml");
    CHECK(problems[0].line == line);
    CHECK(problems[0].key == key);
    CHECK_THAT(problems[0].message, Catch::Contains(text));
}

// kMinimal with `postgres_extra` added under postgres and `kafka_extra` under kafka; the
// extra lines start at line 3 and line 6 + (lines in postgres_extra) respectively.
std::string minimal_with(const std::string& postgres_extra, const std::string& kafka_extra = "") {
    return "postgres:\n  conninfo: \"host=db dbname=app\"\n" + postgres_extra +
           "kafka:\n  brokers: \"k1:9092\"\n  topic_prefix: app\n" + kafka_extra;
}

// A temporary folder removed at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "pgcs_config_test_XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path write(const std::string& name, const std::string& text) const {
        fs::path file = path / name;
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        return file;
    }
};

}  // namespace

TEST_CASE("a minimal config gets every default from the struct tree", "[config]") {
    Config config = load(kMinimal);
    Config defaults;
    CHECK(config.postgres.conninfo == "host=db dbname=app");
    CHECK(config.postgres.password.empty());
    CHECK(config.postgres.password_file.empty());
    CHECK(config.postgres.slot == defaults.postgres.slot);
    CHECK(config.postgres.slot == "pgchangeset");
    CHECK(config.postgres.publication == "pgchangeset");
    CHECK(config.postgres.tables.empty());
    CHECK(config.postgres.table_names.empty());
    CHECK(config.postgres.status_interval_ms == defaults.postgres.status_interval_ms);
    CHECK(config.kafka.brokers == "k1:9092");
    CHECK(config.kafka.topic_prefix == "app");
    CHECK(config.kafka.properties.empty());
    CHECK(config.kafka.flush_timeout_ms == defaults.kafka.flush_timeout_ms);
    CHECK(config.log.level == defaults.log.level);
}

TEST_CASE("a full config sets every key", "[config]") {
    Config config = load(R"(# every key
postgres:
  conninfo: "host=db port=5433 dbname=app user=cdc password=s3cret"
  password_file: secrets/pg
  slot: my_slot_1
  publication: my_pub
  tables:
    - public.users
    - Sales.Orders
    - '"My Schema"."T.1"'
  status_interval_ms: 250
kafka:
  brokers: "k1:9092,k2:9092"
  topic_prefix: prod.app-1_x
  properties:
    compression.type: lz4
    linger.ms: 20
  flush_timeout_ms: 5000
log:
  level: debug
)");
    CHECK(config.postgres.conninfo == "host=db port=5433 dbname=app user=cdc password=s3cret");
    CHECK(config.postgres.password_file == "secrets/pg");  // not read by load_config_string
    CHECK(config.postgres.password.empty());
    CHECK(config.postgres.slot == "my_slot_1");
    CHECK(config.postgres.publication == "my_pub");
    CHECK(config.postgres.tables ==
          std::vector<std::string>{"public.users", "Sales.Orders", "\"My Schema\".\"T.1\""});
    CHECK(config.postgres.table_names ==
          std::vector<TableName>{{"public", "users"}, {"sales", "orders"}, {"My Schema", "T.1"}});
    CHECK(config.postgres.status_interval_ms == 250);
    CHECK(config.kafka.brokers == "k1:9092,k2:9092");
    CHECK(config.kafka.topic_prefix == "prod.app-1_x");
    CHECK(config.kafka.properties == std::vector<std::pair<std::string, std::string>>{
                                         {"compression.type", "lz4"}, {"linger.ms", "20"}});
    CHECK(config.kafka.flush_timeout_ms == 5000);
    CHECK(config.log.level == "debug");
}

TEST_CASE("empty sections and empty optional lists mean defaults", "[config]") {
    Config config = load(minimal_with("  tables:\n", "  properties:\nlog:\n"));
    CHECK(config.postgres.tables.empty());
    CHECK(config.kafka.properties.empty());
    CHECK(config.log.level == "info");
}

TEST_CASE("unknown keys are reported with a suggestion", "[config]") {
    SECTION("a typo of a top-level section") {
        expect_problem(std::string(kMinimal) + "lgo:\n  level: info\n", 6, "lgo",
                       "unknown key; did you mean 'log'?");
    }
    SECTION("a typo inside a section") {
        expect_problem(minimal_with("  slott: x\n"), 3, "postgres.slott",
                       "unknown key; did you mean 'slot'?");
        expect_problem(minimal_with("", "  topic-prefix: x\n"), 6, "kafka.topic-prefix",
                       "unknown key; did you mean 'topic_prefix'?");
        expect_problem(minimal_with("  Conninfo: x\n"), 3, "postgres.Conninfo",
                       "unknown key; did you mean 'conninfo'?");
    }
    SECTION("a key of another section names its full path") {
        expect_problem(minimal_with("  brokers: x\n"), 3, "postgres.brokers",
                       "unknown key; did you mean 'kafka.brokers'?");
        expect_problem(std::string(kMinimal) + "level: info\n", 6, "level",
                       "unknown key; did you mean 'log.level'?");
    }
    SECTION("a name from other tools") {
        expect_problem(minimal_with("  password: x\n"), 3, "postgres.password",
                       "unknown key; did you mean 'password_file'?");
        expect_problem(minimal_with("", "  bootstrap.servers: x\n"), 6, "kafka.bootstrap.servers",
                       "unknown key; did you mean 'brokers'?");
    }
    SECTION("nothing close: the accepted keys are listed") {
        expect_problem(minimal_with("", "  zzzzzz: 1\n"), 6, "kafka.zzzzzz",
                       "unknown key; 'kafka' accepts brokers, topic_prefix, properties, "
                       "flush_timeout_ms");
    }
    SECTION("kafka.properties takes any property librdkafka knows") {
        Config config =
            load(minimal_with("", "  properties:\n    sticky.partitioning.linger.ms: 7\n"));
        REQUIRE(config.kafka.properties.size() == 1);
        expect_problem(minimal_with("", "  properties:\n    some.future.property: x\n"), 7,
                       "kafka.properties.some.future.property", "has no such property");
    }
}

TEST_CASE("values of the wrong kind", "[config]") {
    SECTION("a map where text is expected") {
        expect_problem(R"(postgres:
  conninfo:
    host: db
kafka:
  brokers: k
  topic_prefix: app
)",
                       2, "postgres.conninfo", "expected a single value, got a map");
    }
    SECTION("a list where text is expected") {
        expect_problem(minimal_with("  slot: [a, b]\n"), 3, "postgres.slot",
                       "expected a single value, got a list");
    }
    SECTION("an empty optional value") {
        expect_problem(minimal_with("  slot:\n"), 3, "postgres.slot", "has no value");
    }
    SECTION("a non-integer interval") {
        expect_problem(minimal_with("  status_interval_ms: 1.5\n"), 3,
                       "postgres.status_interval_ms", "'1.5' is not a whole number");
        expect_problem(minimal_with("  status_interval_ms: 10s\n"), 3,
                       "postgres.status_interval_ms", "'10s' is not a whole number");
        expect_problem(minimal_with("", "  flush_timeout_ms: 99999999999\n"), 6,
                       "kafka.flush_timeout_ms", "too large");
    }
    SECTION("intervals must be positive") {
        expect_problem(minimal_with("  status_interval_ms: 0\n"), 3, "postgres.status_interval_ms",
                       "must be above zero");
        expect_problem(minimal_with("", "  flush_timeout_ms: -5\n"), 6, "kafka.flush_timeout_ms",
                       "must be above zero");
    }
    SECTION("tables must be a list") {
        expect_problem(minimal_with("  tables: public.users\n"), 3, "postgres.tables",
                       "expected a list of schema.table names");
    }
    SECTION("a section must be a map") {
        expect_problem(std::string(kMinimal) + "log: debug\n", 6, "log",
                       "expected a map of settings");
        // A section of the wrong kind does not also report its required keys as missing.
        expect_problem("postgres: [a]\nkafka:\n  brokers: k\n  topic_prefix: app\n", 1, "postgres",
                       "got a list");
    }
    SECTION("properties must be a map of single values") {
        expect_problem(minimal_with("", "  properties: [a]\n"), 6, "kafka.properties",
                       "expected a map of librdkafka properties");
        expect_problem(minimal_with("", "  properties:\n    linger.ms:\n"), 7,
                       "kafka.properties.linger.ms", "has no value");
        expect_problem(minimal_with("", "  properties:\n    debug: [a, b]\n"), 7,
                       "kafka.properties.debug", "expected a single value, got a list");
    }
    SECTION("a key must be text") {
        expect_problem(minimal_with("  [a, b]: x\n"), 3, "postgres", "a key must be plain text");
    }
}

TEST_CASE("missing required keys are reported at their parent", "[config]") {
    SECTION("a missing key in a present section: the section's line") {
        expect_problem("postgres:\n  slot: s\nkafka:\n  brokers: k\n  topic_prefix: app\n", 1,
                       "postgres.conninfo", "required key is missing; add it under 'postgres:'");
        expect_problem("postgres:\n  conninfo: dbname=c\n\nkafka:\n  brokers: k\n", 4,
                       "kafka.topic_prefix", "required key is missing");
    }
    SECTION("a missing section: the top-level map's line") {
        std::vector<ConfigProblem> problems =
            problems_of("# comment\npostgres:\n  conninfo: dbname=c\n");
        REQUIRE(problems.size() == 2);
        CHECK(problems[0].line == 2);
        CHECK(problems[0].key == "kafka.brokers");
        CHECK_THAT(problems[0].message, Catch::Contains("in a 'kafka:' section"));
        CHECK(problems[1].line == 2);
        CHECK(problems[1].key == "kafka.topic_prefix");
    }
    SECTION("an empty section") {
        std::vector<ConfigProblem> problems =
            problems_of(std::string("log:\n") + kMinimal + "postgres:\n");
        // The duplicate 'postgres' is reported; the first one is kept.
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].line == 7);
        CHECK(problems[0].key == "postgres");
        CHECK_THAT(problems[0].message, Catch::Contains("duplicate key, first given on line 2"));
        expect_problem("postgres:\nkafka:\n  brokers: k\n  topic_prefix: app\n", 1,
                       "postgres.conninfo", "required key is missing");
    }
    SECTION("a required key without a value") {
        expect_problem("postgres:\n  conninfo:\nkafka:\n  brokers: k\n  topic_prefix: app\n", 2,
                       "postgres.conninfo", "has no value but is required");
        expect_problem("postgres:\n  conninfo: ''\nkafka:\n  brokers: k\n  topic_prefix: app\n", 2,
                       "postgres.conninfo", "must not be empty");
    }
}

TEST_CASE("invalid values", "[config]") {
    SECTION("slot: PostgreSQL's rule [a-z0-9_]{1,63}") {
        expect_problem(minimal_with("  slot: My-Slot\n"), 3, "postgres.slot",
                       "'My-Slot' is not a valid replication slot name");
        expect_problem(minimal_with("  slot: " + std::string(64, 'a') + "\n"), 3, "postgres.slot",
                       "1 to 63 characters");
        CHECK(load(minimal_with("  slot: " + std::string(63, 'a') + "\n")).postgres.slot.size() ==
              63);
    }
    SECTION("publication: a lower-case identifier of at most 63 bytes") {
        expect_problem(minimal_with("  publication: 1pub\n"), 3, "postgres.publication",
                       "not a valid publication name");
        expect_problem(minimal_with("  publication: MyPub\n"), 3, "postgres.publication",
                       "not a valid publication name");
        expect_problem(minimal_with("  publication: _" + std::string(63, 'p') + "\n"), 3,
                       "postgres.publication", "1 to 63 characters");
        CHECK(load(minimal_with("  publication: _pub$1\n")).postgres.publication == "_pub$1");
    }
    SECTION("tables: schema.table, quoted identifiers allowed") {
        expect_problem(minimal_with("  tables: [users]\n"), 3, "postgres.tables[0]",
                       "the schema is missing; write schema.table, e.g. public.users");
        expect_problem(minimal_with("  tables:\n    - public.users\n    - a.b.c\n"), 5,
                       "postgres.tables[1]", "has more than two parts");
        expect_problem(minimal_with("  tables: ['public.\"users']\n"), 3, "postgres.tables[0]",
                       "not closed");
        expect_problem(minimal_with("  tables: ['public.my table']\n"), 3, "postgres.tables[0]",
                       "put a name with spaces or special characters in double quotes");
        expect_problem(minimal_with("  tables: ['public.\"\"']\n"), 3, "postgres.tables[0]",
                       "must not be empty");
        expect_problem(minimal_with("  tables: [public." + std::string(64, 't') + "]\n"), 3,
                       "postgres.tables[0]", "longer than PostgreSQL's limit of 63 bytes");
        expect_problem(minimal_with("  tables:\n    - public.users\n    - Public.\"users\"\n"), 5,
                       "postgres.tables[1]", "is listed twice (also as 'public.users')");
        expect_problem(minimal_with("  tables:\n    -\n"), 3, "postgres.tables[0]", "has no value");

        Config config = load(minimal_with("  tables: ['\"a\"\"b\".\"T.1\"', s.t_$2]\n"));
        CHECK(config.postgres.table_names ==
              std::vector<TableName>{{"a\"b", "T.1"}, {"s", "t_$2"}});
    }
    SECTION("topic_prefix: Kafka's topic characters, room for schema and table") {
        expect_problem(
            "postgres:\n  conninfo: dbname=c\nkafka:\n  brokers: k\n  topic_prefix: app/x\n", 5,
            "kafka.topic_prefix", "contains '/', which Kafka does not allow");
        std::string yaml =
            "postgres:\n  conninfo: dbname=c\nkafka:\n  brokers: k\n  topic_prefix: " +
            std::string(122, 'x') + "\n";
        expect_problem(yaml, 5, "kafka.topic_prefix", "use at most 121");
        yaml = "postgres:\n  conninfo: dbname=c\nkafka:\n  brokers: k\n  topic_prefix: " +
               std::string(121, 'x') + "\n";
        CHECK(load(yaml).kafka.topic_prefix.size() == 121);
        expect_problem(
            "postgres:\n  conninfo: dbname=c\nkafka:\n  brokers: k\n  topic_prefix: ''\n", 5,
            "kafka.topic_prefix", "must not be empty");
    }
    SECTION("brokers: not empty, no empty entry") {
        expect_problem(
            "postgres:\n  conninfo: dbname=c\nkafka:\n  brokers: 'a:1,,b:2'\n  topic_prefix: "
            "t\n",
            4, "kafka.brokers", "has an empty entry");
    }
    SECTION("log.level: one of the spdlog levels") {
        expect_problem(std::string(kMinimal) + "log:\n  level: verbose\n", 7, "log.level",
                       "use one of trace, debug, info, warn, error, critical, off");
        for (const char* level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
            CHECK(load(std::string(kMinimal) + "log:\n  level: " + level + "\n").log.level ==
                  level);
        }
    }
}

TEST_CASE("kafka.properties keep file order and become text", "[config]") {
    Config config = load(minimal_with("", R"(  properties:
    socket.keepalive.enable: yes
    linger.ms: 5
    batch.size: 1e6
    compression.type: zstd
    check.crcs: False
    client.id: "yes"
    api.version.request: off
    message.max.bytes: 0x100000
    enable.idempotence: true
    acks: all
)"));
    CHECK(config.kafka.properties == std::vector<std::pair<std::string, std::string>>{
                                         {"socket.keepalive.enable", "true"},
                                         {"linger.ms", "5"},
                                         {"batch.size", "1e6"},
                                         {"compression.type", "zstd"},
                                         {"check.crcs", "false"},
                                         {"client.id", "yes"},  // quoted: passed as written
                                         {"api.version.request", "false"},
                                         {"message.max.bytes", "0x100000"},
                                         {"enable.idempotence", "true"},
                                         {"acks", "all"},
                                     });
    CHECK(load(minimal_with("", "  properties:\n    acks: -1\n")).kafka.properties[0].second ==
          "-1");
}

TEST_CASE("properties the daemon owns for its delivery guarantee are rejected", "[config]") {
    auto with_property = [](const std::string& line) {
        return minimal_with("", "  properties:\n    compression.type: lz4\n    " + line + "\n");
    };
    expect_problem(with_property("enable.idempotence: false"), 8,
                   "kafka.properties.enable.idempotence", "must stay true");
    expect_problem(with_property("enable.idempotence: no"), 8,
                   "kafka.properties.enable.idempotence", "must stay true");
    expect_problem(with_property("acks: 1"), 8, "kafka.properties.acks",
                   "the daemon needs acks=all (or -1)");
    expect_problem(with_property("acks: 0"), 8, "kafka.properties.acks", "needs acks=all");
    expect_problem(with_property("request.required.acks: 1"), 8,
                   "kafka.properties.request.required.acks", "needs request.required.acks=all");
    expect_problem(with_property("bootstrap.servers: x:9092"), 8,
                   "kafka.properties.bootstrap.servers", "list the brokers in kafka.brokers");
    expect_problem(with_property("metadata.broker.list: x:9092"), 8,
                   "kafka.properties.metadata.broker.list", "kafka.brokers");
    expect_problem(with_property("delivery.report.only.error: true"), 8,
                   "kafka.properties.delivery.report.only.error", "must stay false");
}

TEST_CASE("duplicate keys are problems at every level", "[config]") {
    expect_problem(minimal_with("  slot: a\n  slot: b\n"), 4, "postgres.slot",
                   "duplicate key, first given on line 3; keep only one of them");
    expect_problem(minimal_with("", "  properties:\n    linger.ms: 1\n    linger.ms: 2\n"), 8,
                   "kafka.properties.linger.ms", "first given on line 7");
    expect_problem(std::string(kMinimal) + "kafka:\n  brokers: x\n", 6, "kafka", "duplicate key");
}

TEST_CASE("every problem is reported together, in line order", "[config]") {
    std::string yaml = R"(postgres:
  slot: Bad-Slot
  tables: [nope]
  status_interval_ms: soon
kafka:
  brokers: ${KAFKA_BROKERS}
  topic_prefix: "bad prefix"
  propertes:
    acks: 1
log:
  level: loud
)";
    std::vector<ConfigProblem> problems = problems_of(yaml);
    std::vector<std::pair<int, std::string>> where;
    where.reserve(problems.size());
    for (const ConfigProblem& p : problems) {
        where.emplace_back(p.line, p.key);
    }
    CHECK(where == std::vector<std::pair<int, std::string>>{
                       {1, "postgres.conninfo"},
                       {2, "postgres.slot"},
                       {3, "postgres.tables[0]"},
                       {4, "postgres.status_interval_ms"},
                       {6, "kafka.brokers"},
                       {7, "kafka.topic_prefix"},
                       {8, "kafka.propertes"},
                       {11, "log.level"},
                   });
    try {
        load(yaml);
    } catch (const ConfigError& e) {
        std::string what = e.what();
        CHECK_THAT(what, Catch::StartsWith("test.yaml:1: postgres.conninfo: required key"));
        CHECK_THAT(what, Catch::Contains(
                             "\ntest.yaml:6: kafka.brokers: environment variable KAFKA_BROKERS "
                             "is not set"));
        CHECK_THAT(what,
                   Catch::Contains("\ntest.yaml:8: kafka.propertes: unknown key; did you mean "
                                   "'properties'?"));
        CHECK(std::count(what.begin(), what.end(), '\n') == 7);
    }
}

TEST_CASE("file-level problems", "[config]") {
    SECTION("a YAML syntax error is one problem with yaml-cpp's line") {
        std::vector<ConfigProblem> problems = problems_of(
            "postgres:\n  conninfo: dbname=c\n  tables: [a.b, c.d\nkafka:\n  brokers: k\n");
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].line == 4);
        CHECK(problems[0].key.empty());
        CHECK_THAT(problems[0].message, Catch::StartsWith("YAML syntax error: "));
        CHECK_THAT(problems[0].to_string(), Catch::StartsWith("test.yaml:4: YAML syntax error"));
        problems = problems_of("postgres:\n  conninfo: dbname=c\n\t slot: x\n");
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].line == 3);
    }
    SECTION("an empty file") {
        expect_problem("", 1, "", "the file is empty");
        expect_problem("# only a comment\n\n", 1, "", "the file is empty");
        expect_problem("---\n", 1, "", "the file is empty");
    }
    SECTION("a top level that is not a map") {
        expect_problem("- postgres\n- kafka\n", 1, "", "the top level must be a map");
        expect_problem("\nhello\n", 2, "", "got text");
    }
    SECTION("a second document") {
        expect_problem(std::string(kMinimal) + "---\nlog: {}\n", 7, "", "a second YAML document");
    }
}

TEST_CASE("${VAR} in values is replaced from the environment", "[config]") {
    EnvLookup env = env_of({{"PGCS_HOST", "db.internal"},
                            {"PGCS_SECRET", "p@ss word"},
                            {"PGCS_MS", "750"},
                            {"PGCS_EMPTY", ""}});
    SECTION("set variables, anywhere in a value, including properties and numbers") {
        Config config = load(R"(postgres:
  conninfo: "host=${PGCS_HOST} password='${PGCS_SECRET}'${PGCS_EMPTY}"
  tables: ["${PGCS_EMPTY}public.users"]
  status_interval_ms: ${PGCS_MS}
kafka:
  brokers: ${PGCS_HOST}:9092
  topic_prefix: app
  properties:
    sasl.password: ${PGCS_SECRET}
    client.id: 'x-${PGCS_HOST}-y'
)",
                             env);
        CHECK(config.postgres.conninfo == "host=db.internal password='p@ss word'");
        CHECK(config.postgres.tables == std::vector<std::string>{"public.users"});
        CHECK(config.postgres.status_interval_ms == 750);
        CHECK(config.kafka.brokers == "db.internal:9092");
        CHECK(config.kafka.properties ==
              std::vector<std::pair<std::string, std::string>>{{"sasl.password", "p@ss word"},
                                                               {"client.id", "x-db.internal-y"}});
    }
    SECTION("an unset variable is a problem naming it") {
        expect_problem(minimal_with("", "  properties:\n    sasl.password: ${PGCS_KAFKA_PW}\n"), 7,
                       "kafka.properties.sasl.password",
                       "environment variable PGCS_KAFKA_PW is not set", env);
        std::vector<ConfigProblem> problems = problems_of(
            "postgres:\n  conninfo: ${A} ${PGCS_HOST} ${B}\nkafka:\n  brokers: "
            "k\n  topic_prefix: app\n",
            env);
        REQUIRE(problems.size() == 2);
        CHECK_THAT(problems[0].message, Catch::Contains("variable A is not set"));
        CHECK_THAT(problems[1].message, Catch::Contains("variable B is not set"));
        CHECK(problems[1].line == 2);
    }
    SECTION("$${ is a literal ${, other $ stay as written") {
        Config config = load(minimal_with("",
                                          "  properties:\n    client.id: \"$${PGCS_HOST}\"\n    "
                                          "sasl.password: pa$$word$\n    sasl.username: "
                                          "$PGCS_HOST\n"),
                             env);
        CHECK(config.kafka.properties ==
              std::vector<std::pair<std::string, std::string>>{{"client.id", "${PGCS_HOST}"},
                                                               {"sasl.password", "pa$$word$"},
                                                               {"sasl.username", "$PGCS_HOST"}});
    }
    SECTION("bad references") {
        expect_problem(minimal_with("  slot: ${1X}\n"), 3, "postgres.slot",
                       "'${1X}' is not a valid environment variable reference", env);
        expect_problem(minimal_with("  slot: ab${PGCS_HOST\n"), 3, "postgres.slot",
                       "'${' is not closed", env);
    }
    SECTION("keys are not expanded") {
        expect_problem(minimal_with("  ${PGCS_HOST}: x\n"), 3, "postgres.${PGCS_HOST}",
                       "unknown key", env);
    }
    SECTION("the expanded value is validated") {
        expect_problem(minimal_with("  slot: ${PGCS_HOST}\n"), 3, "postgres.slot",
                       "'db.internal' is not a valid replication slot name", env);
    }
}

TEST_CASE("password_file is read by load_config_file", "[config]") {
    TempDir dir;
    std::string config_text = minimal_with("  password_file: ${PGCS_PW_FILE}\n");
    fs::path config_path = dir.write("etc/pgchangeset.yaml", config_text);

    SECTION("a relative path starts from the config file's folder; CR LF is stripped") {
        dir.write("etc/secrets/pg", "s3cret pass\r\nsecond line\n");
        Config config =
            load_config_file(config_path.string(), env_of({{"PGCS_PW_FILE", "secrets/pg"}}));
        CHECK(config.postgres.password == "s3cret pass");
        CHECK(fs::path(config.postgres.password_file) == config_path.parent_path() / "secrets/pg");
    }
    SECTION("an absolute path; no trailing newline") {
        fs::path secret = dir.write("elsewhere/pw", "abc");
        Config config =
            load_config_file(config_path.string(), env_of({{"PGCS_PW_FILE", secret.string()}}));
        CHECK(config.postgres.password == "abc");
    }
    SECTION("a missing file") {
        try {
            load_config_file(config_path.string(), env_of({{"PGCS_PW_FILE", "nope"}}));
            FAIL("expected a ConfigError");
        } catch (const ConfigError& e) {
            REQUIRE(e.problems().size() == 1);
            const ConfigProblem& p = e.problems()[0];
            CHECK(p.file == config_path.string());
            CHECK(p.line == 3);
            CHECK(p.key == "postgres.password_file");
            CHECK_THAT(p.message, Catch::Contains("cannot read the password file '" +
                                                  (config_path.parent_path() / "nope").string() +
                                                  "': No such file or directory"));
        }
    }
    SECTION("an empty file") {
        dir.write("etc/empty", "\nsecond\n");
        try {
            load_config_file(config_path.string(), env_of({{"PGCS_PW_FILE", "empty"}}));
            FAIL("expected a ConfigError");
        } catch (const ConfigError& e) {
            REQUIRE(e.problems().size() == 1);
            CHECK(e.problems()[0].line == 3);
            CHECK_THAT(e.problems()[0].message, Catch::Contains("has an empty first line"));
        }
    }
    SECTION("a problem with the password file is reported with the others") {
        std::string text = minimal_with("  password_file: missing\n  slot: X\n");
        fs::path path = dir.write("two.yaml", text);
        try {
            load_config_file(path.string(), kNoEnv);
            FAIL("expected a ConfigError");
        } catch (const ConfigError& e) {
            REQUIRE(e.problems().size() == 2);
            CHECK(e.problems()[0].key == "postgres.password_file");
            CHECK(e.problems()[1].key == "postgres.slot");
        }
    }
    SECTION("load_config_string leaves the file alone") {
        Config config = load(config_text, env_of({{"PGCS_PW_FILE", "does/not/exist"}}));
        CHECK(config.postgres.password_file == "does/not/exist");
        CHECK(config.postgres.password.empty());
    }
}

TEST_CASE("load_config_file reports an unreadable file on line 0", "[config]") {
    TempDir dir;
    for (const fs::path& path : {dir.path / "absent.yaml", dir.path}) {
        try {
            load_config_file(path.string(), kNoEnv);
            FAIL("expected a ConfigError");
        } catch (const ConfigError& e) {
            REQUIRE(e.problems().size() == 1);
            CHECK(e.problems()[0].file == path.string());
            CHECK(e.problems()[0].line == 0);
            CHECK(e.problems()[0].key.empty());
            CHECK_THAT(e.problems()[0].message,
                       Catch::StartsWith("cannot read the configuration file: "));
        }
    }
}

TEST_CASE("load_config_file problems name the file", "[config]") {
    TempDir dir;
    fs::path path = dir.write("c.yaml", "postgres:\n  conninfo: dbname=c\n");
    try {
        load_config_file(path.string(), kNoEnv);
        FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
        REQUIRE(e.problems().size() == 2);
        CHECK(e.problems()[0].to_string() ==
              path.string() +
                  ":1: kafka.brokers: required key is missing; add it in a 'kafka:' section, "
                  "e.g. brokers: \"kafka-1:9092,kafka-2:9092\"");
    }
}

TEST_CASE("the example configuration loads", "[config]") {
#ifdef PGCS_SOURCE_DIR
    fs::path source_dir = PGCS_SOURCE_DIR;
#else
    fs::path source_dir = fs::path(__FILE__).parent_path() / "../../..";
#endif
    fs::path example = source_dir / "deploy/example/pgchangeset.yaml";
    REQUIRE(fs::exists(example));
    Config config = load_config_file(example.string(), kNoEnv);
    CHECK_FALSE(config.postgres.conninfo.empty());
    CHECK_FALSE(config.kafka.brokers.empty());
    CHECK_FALSE(config.kafka.topic_prefix.empty());
}

TEST_CASE("process_env reads the process environment", "[config]") {
    CHECK_FALSE(pgcs::config::process_env("PGCS_CONFIG_TEST_SURELY_UNSET_VARIABLE").has_value());
}

TEST_CASE("service keys: defaults, values and mistakes", "[config]") {
    const Config defaults = load(kMinimal);
    CHECK(defaults.postgres.create_publication);
    CHECK(defaults.postgres.create_slot);
    CHECK(defaults.postgres.heartbeat_interval_ms == 10000);
    CHECK(defaults.postgres.read_timeout_ms == 30000);
    CHECK(defaults.reconnect.initial_backoff_ms == 500);
    CHECK(defaults.reconnect.max_backoff_ms == 30000);
    CHECK(defaults.metrics.listen.empty());
    CHECK(defaults.metrics.ready_max_lag_seconds == 60);

    const Config set = load(minimal_with("  create_publication: false\n  create_slot: no\n"
                                         "  heartbeat_interval_ms: 0\n  read_timeout_ms: 5000\n") +
                            "reconnect:\n  initial_backoff_ms: 100\n  max_backoff_ms: 2000\n"
                            "metrics:\n  listen: \"0.0.0.0:9187\"\n  ready_max_lag_seconds: 2.5\n");
    CHECK_FALSE(set.postgres.create_publication);
    CHECK_FALSE(set.postgres.create_slot);
    CHECK(set.postgres.heartbeat_interval_ms == 0);
    CHECK(set.postgres.read_timeout_ms == 5000);
    CHECK(set.reconnect.initial_backoff_ms == 100);
    CHECK(set.reconnect.max_backoff_ms == 2000);
    CHECK(set.metrics.listen == "0.0.0.0:9187");
    CHECK(set.metrics.ready_max_lag_seconds == 2.5);

    expect_problem(minimal_with("  create_slot: maybe\n"), 3, "postgres.create_slot",
                   "expected true or false");
    expect_problem(minimal_with("  read_timeout_ms: 10\n"), 3, "postgres.read_timeout_ms",
                   "at least 1000");
    expect_problem(minimal_with("  heartbeat_interval_ms: -1\n"), 3,
                   "postgres.heartbeat_interval_ms", "at least 0");
    expect_problem(std::string(kMinimal) +
                       "reconnect:\n  initial_backoff_ms: 500\n"
                       "  max_backoff_ms: 100\n",
                   8, "reconnect.max_backoff_ms", "at least reconnect.initial_backoff_ms");
    expect_problem(std::string(kMinimal) + "metrics:\n  listen: localhost\n", 7, "metrics.listen",
                   "host:port");
    // Debian's libcivetweb cannot listen on IPv6: refused here, not when the daemon starts.
    expect_problem(std::string(kMinimal) + "metrics:\n  listen: \"[::1]:9187\"\n", 7,
                   "metrics.listen", "built without IPv6");
    expect_problem(std::string(kMinimal) + "metrics:\n  listen: \"::1:9187\"\n", 7,
                   "metrics.listen", "built without IPv6");
    expect_problem(std::string(kMinimal) + "metrics:\n  listen: 127.0.0.1:99999\n", 7,
                   "metrics.listen", "1..65535");
    expect_problem(std::string(kMinimal) + "metrics:\n  ready_max_lag_seconds: 0\n", 7,
                   "metrics.ready_max_lag_seconds", "above zero");
    expect_problem(std::string(kMinimal) + "metrics:\n  lisen: 127.0.0.1:1\n", 7, "metrics.lisen",
                   "did you mean");
}

TEST_CASE("capture keys: streaming, binary, messages, partitions and the buffer", "[config]") {
    const Config defaults = load(kMinimal);
    CHECK(defaults.postgres.streaming);
    CHECK_FALSE(defaults.postgres.binary);
    CHECK_FALSE(defaults.postgres.messages);
    CHECK_FALSE(defaults.postgres.publish_via_partition_root);
    CHECK_FALSE(defaults.postgres.failover);
    CHECK(defaults.kafka.messages_topic.empty());
    CHECK(defaults.buffer.memory_limit_bytes == 64ULL << 20);
    CHECK(defaults.buffer.spill_directory == "/var/tmp");

    const Config set = load(minimal_with("  streaming: false\n  binary: true\n  messages: true\n"
                                         "  publish_via_partition_root: true\n  failover: true\n") +
                            "buffer:\n  memory_limit: 512kB\n  spill_directory: /srv/spill\n");
    CHECK_FALSE(set.postgres.streaming);
    CHECK(set.postgres.binary);
    CHECK(set.postgres.messages);
    CHECK(set.postgres.publish_via_partition_root);
    CHECK(set.postgres.failover);
    CHECK(set.buffer.memory_limit_bytes == 512ULL << 10);
    CHECK(set.buffer.spill_directory == "/srv/spill");
    CHECK(
        load(std::string(kMinimal) + "buffer:\n  memory_limit: 2GB\n").buffer.memory_limit_bytes ==
        2ULL << 30);
    CHECK(load(std::string(kMinimal) + "buffer:\n  memory_limit: 1048576\n")
              .buffer.memory_limit_bytes == 1048576);

    expect_problem(std::string(kMinimal) + "buffer:\n  memory_limit: lots\n", 7,
                   "buffer.memory_limit", "kB, MB, GB");
    expect_problem(std::string(kMinimal) + "buffer:\n  memory_limit: 64TB\n", 7,
                   "buffer.memory_limit", "is not a size");
    expect_problem(std::string(kMinimal) + "buffer:\n  memory_limit: 1kB\n", 7,
                   "buffer.memory_limit", "minimum of 64kB");
    expect_problem(std::string(kMinimal) + "buffer:\n  spill_directory: tmp\n", 7,
                   "buffer.spill_directory", "absolute path");
    expect_problem(minimal_with("  binary: sometimes\n"), 3, "postgres.binary",
                   "expected true or false");
    expect_problem(minimal_with("  streming: true\n"), 3, "postgres.streming", "did you mean");
    CHECK(load(minimal_with("", "  messages_topic: app.msgs\n")).kafka.messages_topic ==
          "app.msgs");
    expect_problem(minimal_with("", "  messages_topic: \"a b\"\n"), 6, "kafka.messages_topic",
                   "does not allow");
}

TEST_CASE("kafka.tombstones: on by default, a boolean", "[config]") {
    CHECK(load(kMinimal).kafka.tombstones);
    CHECK_FALSE(load(minimal_with("", "  tombstones: false\n")).kafka.tombstones);
    CHECK(load(minimal_with("", "  tombstones: yes\n")).kafka.tombstones);
    expect_problem(minimal_with("", "  tombstones: sometimes\n"), 6, "kafka.tombstones",
                   "expected true or false");
    expect_problem(minimal_with("", "  tombstone: false\n"), 6, "kafka.tombstone", "did you mean");
}

TEST_CASE("kafka.format, kafka.schemas and kafka.debezium", "[config]") {
    using pgcs::config::DebeziumConfig;
    using pgcs::config::EventFormat;
    const Config defaults = load(kMinimal);
    CHECK(defaults.kafka.format == EventFormat::Native);
    CHECK_FALSE(defaults.kafka.schemas);
    CHECK(defaults.kafka.debezium.decimal_handling_mode == DebeziumConfig::DecimalMode::Precise);
    CHECK(defaults.kafka.debezium.time_precision_mode == DebeziumConfig::TimeMode::Adaptive);
    CHECK(defaults.kafka.debezium.skipped_operations == "t");
    const Config d = load(minimal_with("",
                                       "  format: debezium\n  schemas: true\n  debezium:\n"
                                       "    decimal.handling.mode: string\n"
                                       "    time.precision.mode: connect\n"
                                       "    skipped.operations: none\n"));
    CHECK(d.kafka.format == EventFormat::Debezium);
    CHECK(d.kafka.schemas);
    CHECK(d.kafka.debezium.decimal_handling_mode == DebeziumConfig::DecimalMode::String);
    CHECK(d.kafka.debezium.time_precision_mode == DebeziumConfig::TimeMode::Connect);
    CHECK(d.kafka.debezium.skipped_operations == "none");
    CHECK(load(minimal_with("", "  format: debezium\n  debezium:\n    skipped.operations: c, t\n"))
              .kafka.debezium.skipped_operations == "c, t");
    expect_problem(minimal_with("", "  format: avro\n"), 6, "kafka.format",
                   "'avro' is not one of native, debezium");
    expect_problem(minimal_with("", "  schemas: true\n"), 6, "kafka.schemas",
                   "applies to kafka.format: debezium only");
    expect_problem(minimal_with("", "  format: debezium\n  schemas: maybe\n"), 7, "kafka.schemas",
                   "expected true or false");
    expect_problem(minimal_with("", "  debezium:\n    decimal.handling.mode: string\n"), 6,
                   "kafka.debezium", "applies to kafka.format: debezium only");
    expect_problem(minimal_with("",
                                "  format: debezium\n  debezium:\n"
                                "    decimal.handling.mode: exact\n"),
                   8, "kafka.debezium.decimal.handling.mode",
                   "'exact' is not one of precise, string, double");
    expect_problem(minimal_with("",
                                "  format: debezium\n  debezium:\n"
                                "    time.precision.mode: adaptive_time_microseconds\n"),
                   8, "kafka.debezium.time.precision.mode", "is not one of adaptive, connect");
    expect_problem(minimal_with("",
                                "  format: debezium\n  debezium:\n"
                                "    skipped.operations: x\n"),
                   8, "kafka.debezium.skipped.operations", "is not a list of operations");
    expect_problem(minimal_with("",
                                "  format: debezium\n  debezium:\n"
                                "    binary.handling.mode: hex\n"),
                   8, "kafka.debezium.binary.handling.mode",
                   "not a Debezium property the debezium format honours");
    expect_problem(minimal_with("", "  format: debezium\n  debezium: [a]\n"), 7, "kafka.debezium",
                   "expected a map of Debezium connector properties");
}

TEST_CASE("snapshot keys: modes, chunk size, progress table", "[config]") {
    const Config defaults = load(kMinimal);
    CHECK(defaults.snapshot.mode == pgcs::config::SnapshotMode::Initial);
    CHECK(defaults.snapshot.chunk_size == 10000);
    CHECK(defaults.snapshot.connections == 2);
    CHECK(defaults.snapshot.table == "public.pgchangeset_snapshots");

    const Config set = load(std::string(kMinimal) +
                            "snapshot:\n  mode: initial_only\n  chunk_size: 500\n"
                            "  connections: 4\n"
                            "  table: ops.\"Snapshot Progress\"\n");
    CHECK(set.snapshot.mode == pgcs::config::SnapshotMode::InitialOnly);
    CHECK(set.snapshot.chunk_size == 500);
    CHECK(set.snapshot.connections == 4);
    CHECK(set.snapshot.table_name.schema == "ops");
    CHECK(set.snapshot.table_name.table == "Snapshot Progress");
    CHECK(load(std::string(kMinimal) + "snapshot:\n  mode: never\n").snapshot.mode ==
          pgcs::config::SnapshotMode::Never);
    CHECK(load(std::string(kMinimal) + "snapshot:\n  mode: always\n").snapshot.mode ==
          pgcs::config::SnapshotMode::Always);

    expect_problem(std::string(kMinimal) + "snapshot:\n  mode: sometimes\n", 7, "snapshot.mode",
                   "initial_only");
    expect_problem(std::string(kMinimal) + "snapshot:\n  chunk_size: 0\n", 7, "snapshot.chunk_size",
                   "must be at least 1, got 0");
    expect_problem(std::string(kMinimal) + "snapshot:\n  chunk_size: many\n", 7,
                   "snapshot.chunk_size", "give rows as digits, e.g. 10000");
    expect_problem(std::string(kMinimal) + "snapshot:\n  connections: 17\n", 7,
                   "snapshot.connections", "must be at most 16, got 17");
    expect_problem(std::string(kMinimal) + "snapshot:\n  table: nodot\n", 7, "snapshot.table",
                   "schema");
    expect_problem(std::string(kMinimal) + "snapshot:\n  chunk_sise: 5\n", 7, "snapshot.chunk_sise",
                   "did you mean");
}

TEST_CASE("snapshot mode names: each mode's name reads back as that mode") {
    using pgcs::config::SnapshotMode;
    for (const auto& [mode, name] :
         {std::pair{SnapshotMode::Initial, "initial"}, std::pair{SnapshotMode::Never, "never"},
          std::pair{SnapshotMode::InitialOnly, "initial_only"},
          std::pair{SnapshotMode::Always, "always"}}) {
        CHECK(pgcs::config::snapshot_mode_name(mode) == name);
        CHECK(pgcs::config::snapshot_mode_from_name(name) == mode);
        // The name the log prints is one the config file accepts.
        CHECK(load(std::string(kMinimal) + "snapshot:\n  mode: " + name + "\n").snapshot.mode ==
              mode);
    }
    CHECK_FALSE(pgcs::config::snapshot_mode_from_name("Initial").has_value());
    CHECK_FALSE(pgcs::config::snapshot_mode_from_name("").has_value());
}

TEST_CASE("sink: optional for run, defaults and values when present", "[config][sink]") {
    Config none = load(kMinimal);
    CHECK_FALSE(none.sink.present);

    Config config =
        load(std::string(kMinimal) + "sink:\n  conninfo: \"host=wh dbname=copy password=${PW}\"\n",
             env_of({{"PW", "s e"}}));
    CHECK(config.sink.present);
    CHECK(config.sink.conninfo == "host=wh dbname=copy password=s\\ e");
    CHECK(config.sink.mode == pgcs::config::SinkMode::Mirror);
    CHECK(config.sink.group_id == "pgchangeset-sink");
    CHECK(config.sink.tables.empty());
    CHECK(config.sink.batch_rows == 5000);
    CHECK(config.sink.batch_time_ms == 200);

    Config full = load(std::string(kMinimal) +
                       "sink:\n  conninfo: \"dbname=copy\"\n  mode: history\n  group_id: g.1\n"
                       "  tables:\n    - public.users\n    - '\"S\".t'\n  batch_rows: 10\n"
                       "  batch_time_ms: 50\n");
    CHECK(full.sink.mode == pgcs::config::SinkMode::History);
    CHECK(full.sink.group_id == "g.1");
    CHECK(full.sink.tables == std::vector<std::string>{"public.users", "\"S\".t"});
    CHECK(full.sink.table_names == std::vector<TableName>{{"public", "users"}, {"S", "t"}});
    CHECK(full.sink.batch_rows == 10);
    CHECK(full.sink.batch_time_ms == 50);
}

TEST_CASE("sink: every mistake named by line and key", "[config][sink]") {
    const std::string base = kMinimal;  // 5 lines; sink: is line 6
    expect_problem(base + "sink:\n  mode: mirror\n", 6, "sink.conninfo", "required key");
    expect_problem(base + "sink:\n  conninfo:\n", 7, "sink.conninfo", "required key");
    expect_problem(base + "sink:\n  conninfo: \" \"\n", 7, "sink.conninfo", "must not be empty");
    expect_problem(base + "sink:\n  conninfo: \"${NOPE}\"\n", 7, "sink.conninfo", "NOPE");
    expect_problem(base + "sink:\n  conninfo: \"dbname=x\"\n  mode: copy\n", 8, "sink.mode",
                   "not one of mirror, history");
    expect_problem(base + "sink:\n  conninfo: \"dbname=x\"\n  group_id: \"a b\"\n", 8,
                   "sink.group_id", "space");
    expect_problem(base + "sink:\n  conninfo: \"dbname=x\"\n  tables: [users.x.y]\n", 8,
                   "sink.tables[0]", "");
    expect_problem(base + "sink:\n  conninfo: \"dbname=x\"\n  tables: [a.b, A.B]\n", 8,
                   "sink.tables[1]", "listed twice");
    expect_problem(base + "sink:\n  conninfo: \"dbname=x\"\n  batch_rows: 0\n", 8,
                   "sink.batch_rows", "must be at least 1");
    expect_problem(base + "sink:\n  conninfo: \"dbname=x\"\n  batch_time_ms: x\n", 8,
                   "sink.batch_time_ms", "not a whole number");
    expect_problem(base + "sink:\n  conninfo: \"dbname=x\"\n  group_di: g\n", 8, "sink.group_di",
                   "did you mean 'group_id'");
    expect_problem(base + "sink: [1]\n", 6, "sink", "");
    // sink.tables must be topics of the pipeline when postgres.tables lists them.
    expect_problem(minimal_with("  tables: [public.users]\n") +
                       "sink:\n  conninfo: \"dbname=x\"\n  tables: [public.users, public.orders]\n",
                   9, "sink.tables[1]", "not in postgres.tables");
}
