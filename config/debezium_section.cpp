// The kafka.debezium section; see debezium_section.hpp.
#include "config/debezium_section.hpp"

#include <algorithm>
#include <array>

namespace pgcs::config::detail {
namespace {

// "none", or c, u, d, t separated by commas (spaces around each allowed).
bool is_operation_list(std::string_view value) {
    if (value == "none") {
        return true;
    }
    if (value.empty()) {
        return false;
    }
    for (;;) {
        const std::size_t comma = value.find(',');
        std::string_view op = value.substr(0, comma);
        op.remove_prefix(std::min(op.find_first_not_of(' '), op.size()));
        op.remove_suffix(op.size() - std::min(op.find_last_not_of(' ') + 1, op.size()));
        if (op != "c" && op != "u" && op != "d" && op != "t") {
            return false;
        }
        if (comma == std::string_view::npos) {
            return true;
        }
        value.remove_prefix(comma + 1);
    }
}

}  // namespace

// kafka.debezium: Debezium connector property names, as a Debezium configuration spells them.
void read_debezium(YamlReader& reader, const Entry& entry, DebeziumConfig& out) {
    using Decimal = DebeziumConfig::DecimalMode;
    using Time = DebeziumConfig::TimeMode;
    static constexpr std::array<std::pair<std::string_view, Decimal>, 3> kDecimal = {
        {{"precise", Decimal::Precise}, {"string", Decimal::String}, {"double", Decimal::Double}}};
    static constexpr std::array<std::pair<std::string_view, Time>, 2> kTime = {
        {{"adaptive", Time::Adaptive}, {"connect", Time::Connect}}};
    if (entry.value.IsNull()) {
        return;
    }
    if (!entry.value.IsMap()) {
        reader.problem(entry.key_line(), entry.path,
                       "expected a map of Debezium connector properties, e.g. "
                       "decimal.handling.mode: string, got " +
                           std::string(kind_of(entry.value)));
        return;
    }
    for (const Entry& property : reader.entries(entry.value, entry.path)) {
        if (property.name == "decimal.handling.mode") {
            optional_choice(reader, property, kDecimal, out.decimal_handling_mode);
        } else if (property.name == "time.precision.mode") {
            optional_choice(reader, property, kTime, out.time_precision_mode);
        } else if (property.name == "skipped.operations") {
            std::optional<std::string> value = reader.text(property);
            if (!value) {
                continue;
            }
            if (!is_operation_list(*value)) {
                reader.problem(property.value_line(), property.path,
                               "'" + *value +
                                   "' is not a list of operations; give c, u, d, t separated by "
                                   "commas (e.g. \"t\", Debezium's default), or none");
                continue;
            }
            out.skipped_operations = std::move(*value);
        } else {
            reader.problem(property.key_line(), property.path,
                           "not a Debezium property the debezium format honours; known: "
                           "decimal.handling.mode, time.precision.mode, skipped.operations "
                           "(the others are listed in the README, \"Migrating from Debezium\")");
        }
    }
}

}  // namespace pgcs::config::detail
