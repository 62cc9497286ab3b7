// The README's configuration table lists exactly the keys the loader accepts.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/key_schema.hpp"

using pgcs::config::detail::known_keys;

TEST_CASE("the README's configuration table documents every key and no other") {
    std::ifstream in(std::string(PGCS_SOURCE_DIR) + "/README.md");
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    // Rows of the table: | `section.key` | default | meaning |
    const std::regex row(R"(\n\| `([a-z_]+\.[a-z_]+)` \|)");
    std::set<std::string> documented;
    const std::string readme = text.str();
    for (auto it = std::sregex_iterator(readme.begin(), readme.end(), row);
         it != std::sregex_iterator(); ++it) {
        documented.insert((*it)[1].str());
    }
    std::set<std::string> accepted;
    for (const std::string_view section : known_keys("")) {
        for (const std::string_view key : known_keys(section)) {
            accepted.insert(std::string(section) + "." + std::string(key));
        }
    }
    REQUIRE(accepted.size() > 20);
    for (const auto& key : accepted) {
        INFO(key);
        CHECK(documented.contains(key));
    }
    for (const auto& key : documented) {
        INFO(key);
        CHECK(accepted.contains(key));
    }
}
