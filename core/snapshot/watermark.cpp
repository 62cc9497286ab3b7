// Writing and recognising watermark contents; see watermark.hpp.
#include "core/snapshot/watermark.hpp"

#include <charconv>
#include <cstdio>
#include <random>

namespace pgcs::snapshot {

Watermark::Watermark(std::string_view slot, std::string_view run_id) {
    prefix_.append(slot).append("/").append(run_id).append("/");
}

std::string Watermark::new_run_id() {
    std::random_device rd;
    const std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) | rd();
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

std::string Watermark::content(std::uint64_t chunk_id) const {
    return prefix_ + std::to_string(chunk_id);
}

std::optional<std::uint64_t> Watermark::chunk_id(std::string_view content) const {
    if (content.substr(0, prefix_.size()) != prefix_) {
        return std::nullopt;
    }
    std::uint64_t id = 0;
    const auto digits = content.substr(prefix_.size());
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) {
        return std::nullopt;
    }
    return id;
}

}  // namespace pgcs::snapshot
