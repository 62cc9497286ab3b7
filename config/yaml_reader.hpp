// Typed reads from a parsed YAML tree that record a ConfigProblem (file, line, dotted key)
// instead of throwing, so that one pass over the file reports every problem.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace pgcs::config::detail {

// yaml-cpp counts lines from 0; problems count from 1, with 0 for "unknown".
int line_of(const YAML::Mark& mark);

// One key/value pair of a YAML map.
struct Entry {
    std::string name;  // the key as written
    std::string path;  // dotted path, e.g. "kafka.brokers"
    YAML::Node key;
    YAML::Node value;

    int key_line() const { return line_of(key.Mark()); }
    // A scalar's own line. An empty value or a block collection starts after the key, so
    // problems about the value as a whole are reported on the key's line.
    int value_line() const;
};

// How ${VAR} is expanded in a value: as plain text, or escaped for a libpq connection string.
enum class Expansion { Plain, Conninfo };

class YamlReader {
  public:
    YamlReader(std::string file, const EnvLookup& env) : file_(std::move(file)), env_(env) {}

    void problem(int line, std::string key, std::string message);
    std::vector<ConfigProblem> take_problems() { return std::move(problems_); }

    // The pairs of `map` in file order. A key that is not text, or repeats an earlier key, is
    // reported and left out.
    std::vector<Entry> entries(const YAML::Node& map, const std::string& path);

    // entries() of a configuration section, keyed by name; also reports keys that `section`
    // does not accept (see key_schema.hpp).
    std::map<std::string, Entry, std::less<>> section_entries(const YAML::Node& map,
                                                              const std::string& section);

    // True when the value is a map; false (reported) otherwise. An empty value is no map but
    // is not reported: an empty section means "all defaults".
    bool is_section(const Entry& entry);

    // The value as text with ${VAR} expanded. Reports an empty value, a map or a list, and
    // every bad ${...} reference.
    std::optional<std::string> text(const Entry& entry, Expansion how = Expansion::Plain);
    std::optional<std::string> text(const YAML::Node& value, const std::string& path, int line,
                                    Expansion how = Expansion::Plain);

    // A whole number above zero that fits an int.
    std::optional<int> positive_int(const Entry& entry);

    // ${VAR} expansion of one value, reporting each bad reference on `line`.
    std::optional<std::string> expand(const std::string& raw, const std::string& path, int line,
                                      Expansion how = Expansion::Plain);

  private:
    std::string file_;
    const EnvLookup& env_;
    std::vector<ConfigProblem> problems_;
};

// "a map", "a list", "nothing", "text": for messages about a value of the wrong kind.
std::string_view kind_of(const YAML::Node& node);

// One of `names` (the value's spelling in the file); reports anything else, listing them.
template <typename Enum, std::size_t N>
void optional_choice(YamlReader& reader, const Entry& entry,
                     const std::array<std::pair<std::string_view, Enum>, N>& names, Enum& out) {
    std::optional<std::string> value = reader.text(entry);
    if (!value) {
        return;
    }
    std::string listed;
    for (const auto& [name, e] : names) {
        if (*value == name) {
            out = e;
            return;
        }
        listed += (listed.empty() ? "" : ", ") + std::string(name);
    }
    reader.problem(entry.value_line(), entry.path, "'" + *value + "' is not one of " + listed);
}

}  // namespace pgcs::config::detail
