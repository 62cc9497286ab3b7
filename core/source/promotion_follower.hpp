// Which server the stream follows across a failover: the first one a loop of the daemon reaches,
// and each one a replication connection reaches after it, told apart by IDENTIFY_SYSTEM
// (server_identity.hpp). A new timeline of the same system is a promotion: the next loop resumes
// from the promoted server's slot with the checks of SourceContext::Promotion (README, "Upgrades
// and high availability").
#pragma once

#include <optional>

#include "core/pgoutput/lsn.hpp"
#include "core/source/server_identity.hpp"
#include "core/source/source_settings.hpp"

namespace pgcs::source {

// What a loop that saw a promotion hands the next one.
struct Promoted {
    ServerIdentity identity;  // the promoted server's
    // The old timeline, what the daemon acknowledged on the old primary, and whether it streamed
    // from a standby (decoding on a standby, 16+: its slot was made there, not synchronised, and
    // is the same slot after the promotion).
    SourceContext::Promotion promotion;
};

class PromotionFollower {
  public:
    // This loop follows a promotion a previous loop saw.
    void follow(const Promoted& p) {
        identity_ = p.identity;
        follows_ = p;
    }

    // A replication connection reached `seen`: the first server is remembered; a promotion of
    // it is returned; another cluster throws StreamFailure. `acknowledged`: the daemon's flush
    // position; `from_standby`: the stream last started on a standby. A promotion again before
    // this loop streamed keeps the older position: the slot's copy is checked against it.
    std::optional<Promoted> identified(const ServerIdentity& seen, Lsn acknowledged,
                                       bool from_standby);

    // The first server's timeline (0 before any).
    int timeline() const { return identity_ ? identity_->timeline : 0; }
    std::string system_id() const { return identity_ ? identity_->system_id : ""; }
    // What the slot is checked against when this loop follows a promotion.
    std::optional<SourceContext::Promotion> promotion() const {
        if (!follows_) {
            return std::nullopt;
        }
        return follows_->promotion;
    }

  private:
    std::optional<ServerIdentity> identity_;  // of the first server this loop reached
    std::optional<Promoted> follows_;         // see follow()
};

}  // namespace pgcs::source
