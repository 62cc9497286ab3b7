// A PostgreSQL MVCC snapshot as pg_current_snapshot() prints it ("xmin:xmax:xip,..."), and the
// transaction ids the stream has already published, for the snapshot's one race: a transaction
// whose commit the stream has already published can still be invisible to a snapshot taken
// just after (its commit record is written and flushed before it leaves the proc array; with
// synchronous replication it can wait there for long). Such a chunk is read again.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace pgcs::snapshot {

struct XidSnapshot {
    std::uint64_t xmin = 0;
    std::uint64_t xmax = 0;
    std::vector<std::uint64_t> xip;  // in progress when the snapshot was taken

    // Parses pg_current_snapshot()'s text; std::nullopt when it is not one.
    static std::optional<XidSnapshot> parse(std::string_view text);

    // Whether a transaction (32-bit xid, as pgoutput sends it) committed before the snapshot
    // could be invisible to it: it was running, or started after it.
    bool may_hide(std::uint32_t xid) const;
};

// The last `capacity` transaction ids the stream published (or skipped as already published).
class RecentXids {
  public:
    explicit RecentXids(std::size_t capacity = 1U << 16) : ring_(capacity, 0) {}
    void add(std::uint32_t xid);
    // How many were ever added: a position to check against later.
    std::uint64_t added() const { return added_; }
    // Whether a transaction the snapshot may not see (running, or at or past its xmax: see
    // XidSnapshot::may_hide) was published before position `before` (added() when the read
    // began; later ones are the stream's to handle).
    bool any_published_while_running(const XidSnapshot& s, std::uint64_t before) const;

  private:
    std::vector<std::uint32_t> ring_;
    std::uint64_t added_ = 0;
};

}  // namespace pgcs::snapshot
