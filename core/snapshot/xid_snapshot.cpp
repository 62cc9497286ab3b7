// pg_current_snapshot() text and the published-xid ring; see xid_snapshot.hpp.
#include "core/snapshot/xid_snapshot.hpp"

#include <algorithm>
#include <charconv>

namespace pgcs::snapshot {

namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) {
    const char* end = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(s.data(), end, out);
    return !s.empty() && ptr == end && ec == std::errc();
}

}  // namespace

std::optional<XidSnapshot> XidSnapshot::parse(std::string_view text) {
    const auto first = text.find(':');
    const auto second = first == std::string_view::npos ? first : text.find(':', first + 1);
    if (second == std::string_view::npos) {
        return std::nullopt;
    }
    XidSnapshot s;
    if (!parse_u64(text.substr(0, first), s.xmin) ||
        !parse_u64(text.substr(first + 1, second - first - 1), s.xmax) || s.xmax < s.xmin) {
        return std::nullopt;
    }
    std::string_view rest = text.substr(second + 1);
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::uint64_t xid = 0;
        if (!parse_u64(rest.substr(0, comma), xid)) {
            return std::nullopt;
        }
        s.xip.push_back(xid);
        if (comma == std::string_view::npos) {
            break;
        }
        rest = rest.substr(comma + 1);
        if (rest.empty()) {
            return std::nullopt;  // a trailing comma
        }
    }
    return s;
}

bool XidSnapshot::may_hide(std::uint32_t xid) const {
    // Compare in 32 bits, modulo wraparound, as PostgreSQL does (TransactionIdPrecedes).
    const auto xmax32 = static_cast<std::uint32_t>(xmax);
    if (static_cast<std::int32_t>(xid - xmax32) >= 0) {
        return true;
    }
    return std::any_of(xip.begin(), xip.end(),
                       [xid](std::uint64_t x) { return static_cast<std::uint32_t>(x) == xid; });
}

void RecentXids::add(std::uint32_t xid) {
    ring_[added_ % ring_.size()] = xid;
    ++added_;
}

bool RecentXids::any_published_while_running(const XidSnapshot& s, std::uint64_t before) const {
    const std::uint64_t end = std::min(before, added_);
    const std::uint64_t begin = added_ > ring_.size() ? added_ - ring_.size() : 0;
    for (std::uint64_t i = begin; i < end; ++i) {
        // Running at the snapshot (in xip), or not yet completed when it was taken (at or past
        // xmax): a transaction's commit can reach the WAL, and the stream, before PostgreSQL
        // marks it completed for new snapshots.
        if (s.may_hide(ring_[i % ring_.size()])) {
            return true;
        }
    }
    return false;
}

}  // namespace pgcs::snapshot
