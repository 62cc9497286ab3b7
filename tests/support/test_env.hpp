// Where the integration tests find PostgreSQL, the broker and the binaries: the runtime folder
// the deploy scripts write (PGCS_RUNTIME_DIR, default <repo>/.run) and PGCS_TEST_BROKER
// (devbroker | kafka). PostgreSQL alone may come from another runtime folder: PGCS_TEST_PG_RUNTIME,
// else with PGCS_TEST_PG_VERSION=V (the CTest labels pg14, pg16, pg17, pg18)
// $PGCS_RUNTIME_DIR/pgV, where deploy/test.sh starts that version's cluster.
// A missing service fails the test: it never silently skips.
#pragma once

#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

namespace pgcs::testing {

inline std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : fallback;
}

inline std::string runtime_dir() {
    return env_or("PGCS_RUNTIME_DIR", PGCS_SOURCE_DIR "/.run");
}

inline std::string read_first_line(const std::string& path, const std::string& what) {
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line) || line.empty()) {
        throw std::runtime_error("cannot read " + what + " from " + path +
                                 ": start it first (deploy/test.sh does)");
    }
    return line;
}

// The major version the tests must find (0: any), from PGCS_TEST_PG_VERSION.
inline int pg_version_wanted() {
    return std::stoi(env_or("PGCS_TEST_PG_VERSION", "0"));
}

inline std::string pg_runtime_dir() {
    const int version = pg_version_wanted();
    return env_or("PGCS_TEST_PG_RUNTIME",
                  version == 0 ? runtime_dir() : runtime_dir() + "/pg" + std::to_string(version));
}

inline std::string pg_conninfo() {
    return env_or("PGCS_TEST_PG_CONNINFO",
                  read_first_line(pg_runtime_dir() + "/pg/conninfo", "the PostgreSQL conninfo"));
}

inline std::string broker_kind() {
    return env_or("PGCS_TEST_BROKER", "devbroker");
}

inline std::string brokers() {
    if (const char* b = std::getenv("PGCS_TEST_BROKERS"); b != nullptr && *b != '\0') {
        return b;
    }
    const std::string kind = broker_kind();
    if (kind == "kafka") {
        return read_first_line(runtime_dir() + "/kafka/bootstrap", "the Kafka bootstrap address");
    }
    return read_first_line(runtime_dir() + "/devbroker.bootstrap", "the dev broker address");
}

inline std::string bin_dir() {
    return env_or("PGCS_BIN_DIR", PGCS_BINARY_DIR "/bin");
}

// A short random suffix so that tests running side by side never share objects.
inline std::string unique_suffix() {
    static std::mt19937_64 rng{std::random_device{}()};
    static const char* kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s;
    for (int i = 0; i < 10; ++i) {
        s += kAlphabet[rng() % 36];
    }
    return s;
}

}  // namespace pgcs::testing
