// The parse of the halt samples of a Prometheus text exposition.
#include "core/sink/halt_exposition.hpp"

namespace pgcs::sink {

namespace {

// The label `name`'s value in a sample line, unescaped ("" when absent).
std::string label(const std::string& line, const std::string& name) {
    const std::string start = name + "=\"";
    auto pos = line.find(start);
    if (pos == std::string::npos) {
        return "";
    }
    std::string out;
    for (pos += start.size(); pos < line.size() && line[pos] != '"'; ++pos) {
        if (line[pos] == '\\' && pos + 1 < line.size()) {
            ++pos;
            out += line[pos] == 'n' ? '\n' : line[pos];
        } else {
            out += line[pos];
        }
    }
    return out;
}

}  // namespace

std::optional<HaltedView> parse_halted(const std::string& exposition) {
    std::optional<HaltedView> view;
    std::size_t pos = 0;
    while (pos < exposition.size()) {
        auto end = exposition.find('\n', pos);
        if (end == std::string::npos) {
            end = exposition.size();
        }
        const std::string line = exposition.substr(pos, end - pos);
        pos = end + 1;
        if (line.rfind("pgchangeset_halted ", 0) == 0) {
            view.emplace().halted = line.substr(19) == "1";
        } else if (line.rfind("pgchangeset_halted_event_bytes{", 0) == 0 && view) {
            view->reason = label(line, "reason");
            view->table = label(line, "table");
            view->topic = label(line, "topic");
            view->key = label(line, "key");
            view->bytes = line.substr(line.rfind(' ') + 1);
        }
    }
    return view;
}

}  // namespace pgcs::sink
