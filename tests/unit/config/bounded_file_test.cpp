// The files a configuration names are read with a size limit, and only when they are regular
// files: /dev/zero, a FIFO or a huge file is refused with a clear problem, not read for ever.
#include "config/bounded_file.hpp"

#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"

namespace {

namespace fs = std::filesystem;
using pgcs::config::ConfigError;
using pgcs::config::load_config_file;
using pgcs::config::detail::kMaxConfigFileBytes;
using pgcs::config::detail::kMaxPasswordFileBytes;
using pgcs::config::detail::read_bounded_file;

struct Dir {
    fs::path path;
    Dir() {
        std::string pattern = (fs::temp_directory_path() / "pgcs_bounded_test_XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~Dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path write(const std::string& name, const std::string& text, fs::perms perms) const {
        fs::path file = path / name;
        std::ofstream(file, std::ios::binary) << text;
        fs::permissions(file, perms);
        return file;
    }
};

constexpr fs::perms kPrivate = fs::perms::owner_read | fs::perms::owner_write;
constexpr fs::perms kShared = kPrivate | fs::perms::group_read | fs::perms::others_read;

std::string config_with_password_file(const std::string& path) {
    return "postgres:\n  conninfo: \"host=h\"\n  password_file: " + path +
           "\nkafka:\n  brokers: k:9092\n  topic_prefix: app\n";
}

std::string only_problem(const std::string& config_path) {
    try {
        load_config_file(config_path, [](const std::string&) { return std::nullopt; });
    } catch (const ConfigError& e) {
        REQUIRE(e.problems().size() == 1);
        return e.problems()[0].to_string();
    }
    FAIL("expected a ConfigError");
    return "";
}

}  // namespace

TEST_CASE("read_bounded_file refuses what is not a small regular file", "[config]") {
    Dir dir;
    std::string error;
    SECTION("a device") {
        CHECK_FALSE(read_bounded_file("/dev/zero", 100, error));
        CHECK_THAT(error, Catch::Contains("not a regular file (it is a character device)"));
    }
    SECTION("a FIFO: refused at once, without waiting for a writer") {
        const fs::path fifo = dir.path / "fifo";
        REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
        CHECK_FALSE(read_bounded_file(fifo.string(), 100, error));
        CHECK_THAT(error, Catch::Contains("not a regular file (it is a FIFO)"));
    }
    SECTION("a directory") {
        CHECK_FALSE(read_bounded_file(dir.path.string(), 100, error));
        CHECK_THAT(error, Catch::Contains("it is a directory"));
    }
    SECTION("the limit is the most it reads") {
        const fs::path at = dir.write("at", std::string(100, 'a'), kPrivate);
        auto file = read_bounded_file(at.string(), 100, error);
        REQUIRE(file);
        CHECK(file->text.size() == 100);
        CHECK(file->mode == 0600);
        const fs::path over = dir.write("over", std::string(101, 'a'), kPrivate);
        CHECK_FALSE(read_bounded_file(over.string(), 100, error));
        CHECK_THAT(error, Catch::Contains("larger than the limit of 100 bytes"));
    }
}

TEST_CASE("the config file and the password file are bounded", "[config]") {
    Dir dir;
    SECTION("a password file on /dev/zero") {
        const fs::path config =
            dir.write("c.yaml", config_with_password_file("/dev/zero"), kPrivate);
        CHECK_THAT(only_problem(config.string()),
                   Catch::Contains("postgres.password_file: cannot read the password file "
                                   "'/dev/zero': it is not a regular file"));
    }
    SECTION("a password file over 64 KiB") {
        dir.write("pw", std::string(kMaxPasswordFileBytes + 1, 'p'), kPrivate);
        const fs::path config = dir.write("c.yaml", config_with_password_file("pw"), kPrivate);
        CHECK_THAT(only_problem(config.string()),
                   Catch::Contains("larger than the limit of 64 KiB"));
    }
    SECTION("a config file over 1 MiB, or /dev/zero") {
        const fs::path big =
            dir.write("big.yaml", "# " + std::string(kMaxConfigFileBytes, 'x') + "\n", kPrivate);
        CHECK_THAT(only_problem(big.string()),
                   Catch::Contains("cannot read the configuration file: it is larger than the "
                                   "limit of 1 MiB"));
        CHECK_THAT(only_problem("/dev/zero"),
                   Catch::Contains("cannot read the configuration file: it is not a regular "
                                   "file"));
    }
}

TEST_CASE("a password file others can read is a warning", "[config]") {
    Dir dir;
    const fs::path config = dir.write("c.yaml", config_with_password_file("pw"), kShared);
    const auto no_env = [](const std::string&) -> std::optional<std::string> {
        return std::nullopt;
    };
    SECTION("mode 0644") {
        dir.write("pw", "secret\n", kShared);
        auto loaded = load_config_file(config.string(), no_env);
        CHECK(loaded.postgres.password == "secret");
        REQUIRE(loaded.warnings.size() == 1);
        CHECK_THAT(loaded.warnings[0], Catch::Contains("is readable or writable by group or "
                                                       "others; make it private: chmod 600"));
        CHECK_THAT(loaded.warnings[0], Catch::Contains((dir.path / "pw").string()));
        CHECK_THAT(loaded.warnings[0], !Catch::Contains("secret\n"));
    }
    SECTION("mode 0600") {
        dir.write("pw", "secret\n", kPrivate);
        CHECK(load_config_file(config.string(), no_env).warnings.empty());
    }
}
