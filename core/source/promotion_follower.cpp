// The first server a loop reached, and a promotion of it. See promotion_follower.hpp.
#include "core/source/promotion_follower.hpp"

#include <spdlog/spdlog.h>

namespace pgcs::source {

std::optional<Promoted> PromotionFollower::identified(const ServerIdentity& seen, Lsn acknowledged,
                                                      bool from_standby) {
    if (!identity_) {
        identity_ = seen;
        spdlog::info("PostgreSQL system {}, timeline {}", seen.system_id, seen.timeline);
        return std::nullopt;
    }
    if (compare_identity(*identity_, seen) != IdentityChange::Promoted) {
        return std::nullopt;
    }
    spdlog::warn(
        "PostgreSQL system {} is on timeline {} (was {}): a standby was promoted; following it "
        "from the slot",
        seen.system_id, seen.timeline, identity_->timeline);
    Promoted p{seen, {identity_->timeline, acknowledged, from_standby}};
    if (follows_) {  // a promotion again before this loop streamed: keep the older position
        p.promotion.acknowledged = follows_->promotion.acknowledged;
        p.promotion.from_standby = follows_->promotion.from_standby;
    }
    return p;
}

}  // namespace pgcs::source
