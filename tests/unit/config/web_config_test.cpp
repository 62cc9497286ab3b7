// The files a configuration names beside postgres.password_file: kafka.sasl_password_file (its
// first line becomes sasl.password) and metrics.web_config_file (TLS and basic auth for the
// metrics endpoint, checked against bcrypt hashes by libcrypt); the warning for a metrics
// endpoint open to other hosts.
#include "config/web_config.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"

namespace {

using pgcs::config::basic_auth_accepts;
using pgcs::config::Config;
using pgcs::config::ConfigError;
using pgcs::config::parse_web_config;
using pgcs::config::WebConfig;
namespace fs = std::filesystem;

// bcrypt (cost 4) of "s3cret", made by libcrypt (Python's crypt.crypt).
constexpr const char* kHash = "$2b$04$vCWEmPC0WthBkkyS5eO4x.LHDATTfoK1D9DTFt8by8kdZJBSO4c2G";

const pgcs::config::EnvLookup kNoEnv = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
};

struct Folder {
    fs::path path =
        fs::temp_directory_path() / ("pgcs-web-config-test-" + std::to_string(getpid()) + "-" +
                                     std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    Folder() { fs::create_directories(path); }
    ~Folder() { fs::remove_all(path); }
    fs::path write(const std::string& name, const std::string& text, fs::perms perms) {
        const fs::path p = path / name;
        std::ofstream(p) << text;
        fs::permissions(p, perms);
        return p;
    }
};

constexpr fs::perms kPrivate = fs::perms::owner_read | fs::perms::owner_write;

std::string minimal(const std::string& kafka_extra, const std::string& tail = "") {
    return "postgres:\n  conninfo: \"host=db dbname=app\"\nkafka:\n  brokers: \"k1:9092\"\n"
           "  topic_prefix: app\n" +
           kafka_extra + tail;
}

std::string first_problem(const fs::path& config) {
    try {
        pgcs::config::load_config_file(config.string(), kNoEnv);
    } catch (const ConfigError& e) {
        return e.problems().at(0).key + ": " + e.problems().at(0).message;
    }
    return "";
}

}  // namespace

TEST_CASE("basic auth users are checked against their bcrypt hashes, $2b$ and $2y$") {
    WebConfig web;
    std::string y = kHash;
    y[2] = 'y';
    REQUIRE_FALSE(parse_web_config(
        std::string("basic_auth_users:\n  prom: ") + kHash + "\n  other: " + y + "\n", "/etc",
        web));
    CHECK(basic_auth_accepts(web, "Basic cHJvbTpzM2NyZXQ="));            // prom:s3cret
    CHECK(basic_auth_accepts(web, "Basic b3RoZXI6czNjcmV0"));            // other:s3cret
    CHECK_FALSE(basic_auth_accepts(web, "Basic cHJvbTp3cm9uZw=="));      // prom:wrong
    CHECK_FALSE(basic_auth_accepts(web, "Basic bm9ib2R5OnMzY3JldA=="));  // nobody:s3cret
    CHECK_FALSE(basic_auth_accepts(web, ""));
    CHECK_FALSE(basic_auth_accepts(web, "Bearer cHJvbTpzM2NyZXQ="));
    CHECK_FALSE(web.tls());
}

TEST_CASE("a web config's TLS files start from its folder and what it cannot do is refused") {
    WebConfig web;
    REQUIRE_FALSE(parse_web_config("tls_server_config:\n  cert_file: s.crt\n  key_file: /k/s.key\n",
                                   "/etc/x", web));
    CHECK(web.cert_file == "/etc/x/s.crt");
    CHECK(web.key_file == "/k/s.key");
    CHECK(web.tls());
    WebConfig other;
    CHECK_THAT(parse_web_config("tls_server_config:\n  cert_file: a\n", "/", other).value_or(""),
               Catch::Contains("needs both cert_file and key_file"));
    CHECK_THAT(
        parse_web_config("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: "
                         "c\n",
                         "/", other)
            .value_or(""),
        Catch::Contains("client_ca_file is not supported"));
    CHECK_THAT(parse_web_config("basic_auth_users:\n  prom: plaintext\n", "/", other).value_or(""),
               Catch::Contains("not a bcrypt hash"));
    CHECK_THAT(parse_web_config("http_server_config: {}\n", "/", other).value_or(""),
               Catch::Contains("'http_server_config' is not supported"));
}

TEST_CASE("kafka.sasl_password_file becomes sasl.password and never comes with it") {
    Folder dir;
    dir.write("sasl", "kafka-secret\nignored\n", kPrivate);
    SECTION("read from the config's folder, appended to the properties") {
        const fs::path config = dir.write(
            "a.yaml", minimal("  sasl_password_file: sasl\n  properties:\n    sasl.username: u\n"),
            kPrivate);
        const Config c = pgcs::config::load_config_file(config.string(), kNoEnv);
        REQUIRE(c.kafka.properties.size() == 2);
        CHECK(c.kafka.properties.back() ==
              std::pair<std::string, std::string>("sasl.password", "kafka-secret"));
        CHECK(c.warnings.empty());
    }
    SECTION("also in kafka.properties: refused") {
        const fs::path config = dir.write(
            "b.yaml", minimal("  sasl_password_file: sasl\n  properties:\n    sasl.password: x\n"),
            kPrivate);
        CHECK_THAT(
            first_problem(config),
            Catch::Contains("kafka.sasl_password_file: kafka.properties sets sasl.password"));
    }
    SECTION("a missing file names the key and the path, never a secret") {
        const fs::path config =
            dir.write("c.yaml", minimal("  sasl_password_file: nope\n"), kPrivate);
        CHECK_THAT(first_problem(config), Catch::Contains("kafka.sasl_password_file: cannot read "
                                                          "the password file '" +
                                                          (dir.path / "nope").string()));
    }
    SECTION("a file others can read is a warning") {
        dir.write("open", "pw\n", fs::perms::owner_read | fs::perms::others_read);
        const fs::path config =
            dir.write("d.yaml", minimal("  sasl_password_file: open\n"), kPrivate);
        const Config c = pgcs::config::load_config_file(config.string(), kNoEnv);
        REQUIRE(c.warnings.size() == 1);
        CHECK_THAT(c.warnings[0], Catch::Contains("kafka.sasl_password_file"));
    }
}

TEST_CASE("metrics.web_config_file is read at load and an open endpoint is a warning") {
    Folder dir;
    dir.write("web.yml",
              std::string("tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n"
                          "basic_auth_users:\n  prom: ") +
                  kHash + "\n",
              kPrivate);
    dir.write("auth-only.yml", std::string("basic_auth_users:\n  prom: ") + kHash + "\n", kPrivate);
    const auto load = [&](const std::string& metrics) {
        return pgcs::config::load_config_file(
            dir.write("m.yaml", minimal("", "metrics:\n" + metrics), kPrivate).string(), kNoEnv);
    };
    if (const auto problem = pgcs::config::civetweb_tls_problem()) {
        // Debian 12: civetweb cannot serve TLS with OpenSSL 3; refused at load, never a crash.
        const fs::path tls =
            dir.write("tls.yaml",
                      minimal("", "metrics:\n  listen: 0.0.0.0:9187\n  web_config_file: web.yml\n"),
                      kPrivate);
        CHECK_THAT(first_problem(tls), Catch::Contains("metrics.web_config_file: " + *problem));
    } else {
        const Config full = load("  listen: 0.0.0.0:9187\n  web_config_file: web.yml\n");
        CHECK(full.metrics.web.cert_file == (dir.path / "s.crt").string());
        CHECK(full.metrics.web.basic_auth());
        CHECK(full.warnings.empty());
    }
    const Config open = load("  listen: 0.0.0.0:9187\n");
    REQUIRE(open.warnings.size() == 1);
    CHECK_THAT(open.warnings[0], Catch::Contains("without TLS or basic auth"));
    const Config auth = load("  listen: 10.1.2.3:9187\n  web_config_file: auth-only.yml\n");
    REQUIRE(auth.warnings.size() == 1);
    CHECK_THAT(auth.warnings[0], Catch::Contains("without TLS"));
    CHECK(load("  listen: 127.0.0.1:9187\n").warnings.empty());
    const fs::path bad = dir.write(
        "bad.yaml", minimal("", "metrics:\n  listen: 127.0.0.1:1\n  web_config_file: none.yml\n"),
        kPrivate);
    CHECK_THAT(first_problem(bad), Catch::Contains("metrics.web_config_file: cannot read"));
}
