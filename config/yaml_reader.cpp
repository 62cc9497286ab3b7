// Typed reads from a parsed YAML tree that collect problems; see yaml_reader.hpp.
#include "config/yaml_reader.hpp"

#include <charconv>
#include <limits>

#include "config/env_expand.hpp"
#include "config/key_schema.hpp"

namespace pgcs::config::detail {

int line_of(const YAML::Mark& mark) {
    return mark.is_null() ? 0 : mark.line + 1;
}

int Entry::value_line() const {
    if (value.IsScalar() && !value.Mark().is_null()) {
        return line_of(value.Mark());
    }
    return key_line();
}

std::string_view kind_of(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map:
            return "a map";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Scalar:
            return "text";
        default:
            return "nothing";
    }
}

void YamlReader::problem(int line, std::string key, std::string message) {
    problems_.push_back(ConfigProblem{file_, line, std::move(key), std::move(message)});
}

std::vector<Entry> YamlReader::entries(const YAML::Node& map, const std::string& path) {
    std::vector<Entry> out;
    std::map<std::string, int, std::less<>> first_line;  // key -> line of its first use
    for (auto it = map.begin(); it != map.end(); ++it) {
        YAML::Node key = it->first;  // a copy: `it->` yields a temporary
        int line = line_of(key.Mark());
        if (!key.IsScalar()) {
            problem(line, path,
                    "a key must be plain text, not " + std::string(kind_of(key)) +
                        "; write 'name: value'");
            continue;
        }
        std::string name = key.Scalar();
        std::string key_path = path;
        if (!key_path.empty()) {
            key_path += '.';
        }
        key_path += name;
        auto [seen, inserted] = first_line.emplace(name, line);
        if (!inserted) {
            problem(line, key_path,
                    "duplicate key, first given on line " + std::to_string(seen->second) +
                        "; keep only one of them");
            continue;
        }
        out.push_back(Entry{name, key_path, key, it->second});
    }
    return out;
}

std::map<std::string, Entry, std::less<>> YamlReader::section_entries(const YAML::Node& map,
                                                                      const std::string& section) {
    std::map<std::string, Entry, std::less<>> out;
    for (Entry& entry : entries(map, section)) {
        bool known = false;
        for (std::string_view k : known_keys(section)) {
            known = known || k == entry.name;
        }
        if (!known) {
            problem(entry.key_line(), entry.path, unknown_key_message(section, entry.name));
            continue;
        }
        std::string name = entry.name;
        out.emplace(std::move(name), std::move(entry));
    }
    return out;
}

bool YamlReader::is_section(const Entry& entry) {
    if (entry.value.IsMap()) {
        return true;
    }
    if (!entry.value.IsNull()) {
        problem(entry.key_line(), entry.path,
                "expected a map of settings (indented 'key: value' lines), got " +
                    std::string(kind_of(entry.value)));
    }
    return false;
}

std::optional<std::string> YamlReader::text(const Entry& entry, Expansion how) {
    return text(entry.value, entry.path, entry.value_line(), how);
}

std::optional<std::string> YamlReader::text(const YAML::Node& value, const std::string& path,
                                            int line, Expansion how) {
    if (!value.IsScalar()) {
        problem(line, path,
                value.IsNull() ? std::string("has no value; give one, or remove the key to use "
                                             "the default where there is one")
                               : "expected a single value, got " + std::string(kind_of(value)));
        return std::nullopt;
    }
    return expand(value.Scalar(), path, line, how);
}

std::optional<std::string> YamlReader::expand(const std::string& raw, const std::string& path,
                                              int line, Expansion how) {
    EnvExpansion expanded =
        how == Expansion::Conninfo ? expand_conninfo(raw, env_) : expand_env(raw, env_);
    for (std::string& error : expanded.errors) {
        problem(line, path, std::move(error));
    }
    if (!expanded.errors.empty()) {
        return std::nullopt;
    }
    return std::move(expanded.value);
}

std::optional<int> YamlReader::positive_int(const Entry& entry) {
    std::optional<std::string> value = text(entry);
    if (!value) {
        return std::nullopt;
    }
    long long number = 0;
    const char* end = value->data() + value->size();
    auto [ptr, ec] = std::from_chars(value->data(), end, number);
    if (value->empty() || ptr != end || ec == std::errc::invalid_argument) {
        problem(entry.value_line(), entry.path,
                "'" + *value + "' is not a whole number; give milliseconds as digits, e.g. 1000");
        return std::nullopt;
    }
    bool negative = (*value)[0] == '-';
    if (!negative &&
        (ec == std::errc::result_out_of_range || number > std::numeric_limits<int>::max())) {
        problem(entry.value_line(), entry.path,
                "'" + *value + "' is too large; the most is " +
                    std::to_string(std::numeric_limits<int>::max()));
        return std::nullopt;
    }
    if (negative || number == 0) {
        problem(entry.value_line(), entry.path,
                "must be above zero, got " + *value + "; give milliseconds, e.g. 1000");
        return std::nullopt;
    }
    return static_cast<int>(number);
}

}  // namespace pgcs::config::detail
