// Table names to Kafka topic names; see topic_name.hpp.
#include "core/base/topic_name.hpp"

#include <cstdint>

namespace pgcs::base {
namespace {

constexpr std::string_view kHex = "0123456789abcdef";
constexpr std::size_t kHashSuffix = 18;  // "-h" and 16 hex digits

bool kept(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int hex_value(char c) {
    const auto at = kHex.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

// The name a part stands for, or std::nullopt when no name's part is `part`.
std::optional<std::string> decode_part(std::string_view part) {
    std::string out;
    for (std::size_t i = 0; i < part.size(); ++i) {
        if (kept(part[i])) {
            out += part[i];
            continue;
        }
        if (part[i] != '-' || i + 2 >= part.size()) {
            return std::nullopt;
        }
        const int hi = hex_value(part[i + 1]);
        const int lo = hex_value(part[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        const char c = static_cast<char>(hi * 16 + lo);
        if (kept(c)) {
            return std::nullopt;  // never written so: "-41" is not 'A'
        }
        out += c;
        i += 2;
    }
    return out;
}

}  // namespace

std::string topic_part(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (const char c : name) {
        if (kept(c)) {
            out += c;
        } else {
            const auto b = static_cast<unsigned char>(c);
            out += '-';
            out += kHex[b >> 4];
            out += kHex[b & 0xf];
        }
    }
    return out;
}

std::string table_topic(std::string_view prefix, std::string_view schema, std::string_view table) {
    std::string topic(prefix);
    topic += '.';
    topic += topic_part(schema);
    topic += '.';
    topic += topic_part(table);
    if (topic.size() <= kMaxKafkaTopicLength) {
        return topic;
    }
    std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64
    for (const char c : topic) {
        hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    topic.resize(kMaxKafkaTopicLength - kHashSuffix);
    topic += "-h";
    for (int shift = 60; shift >= 0; shift -= 4) {
        topic += kHex[(hash >> shift) & 0xf];
    }
    return topic;
}

std::optional<std::pair<std::string, std::string>> table_of_topic(std::string_view prefix,
                                                                  std::string_view topic) {
    if (topic.size() <= prefix.size() + 1 || topic.substr(0, prefix.size()) != prefix ||
        topic[prefix.size()] != '.') {
        return std::nullopt;
    }
    const std::string_view rest = topic.substr(prefix.size() + 1);
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == rest.size() ||
        rest.find('.', dot + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    auto schema = decode_part(rest.substr(0, dot));
    auto table = decode_part(rest.substr(dot + 1));
    if (!schema || !table) {
        return std::nullopt;
    }
    return std::make_pair(std::move(*schema), std::move(*table));
}

}  // namespace pgcs::base
