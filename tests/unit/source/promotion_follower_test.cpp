// Which server the stream follows: the first one reached, a promotion of it (a new timeline of
// the same system) with what the next loop checks the slot against, another cluster refused.
#include "core/source/promotion_follower.hpp"

#include <catch2/catch.hpp>

#include "core/source/stream_failure.hpp"

using pgcs::source::PromotionFollower;

TEST_CASE("promotion: the first server is remembered, the same one again is no change") {
    PromotionFollower f;
    CHECK(f.timeline() == 0);
    CHECK_FALSE(f.identified({"7300", 1, 0x100}, 0, false));
    CHECK(f.timeline() == 1);
    CHECK_FALSE(f.identified({"7300", 1, 0x200}, 0x180, false));
    CHECK_FALSE(f.promotion());
}

TEST_CASE("promotion: a new timeline hands over the old one and what was acknowledged there") {
    PromotionFollower f;
    f.identified({"7300", 1, 0}, 0, false);
    const auto p = f.identified({"7300", 2, 0x300}, 0x280, true);
    REQUIRE(p);
    CHECK(p->identity.timeline == 2);
    CHECK(p->promotion.old_timeline == 1);
    CHECK(p->promotion.acknowledged == 0x280);
    CHECK(p->promotion.from_standby);

    PromotionFollower next;  // the loop that follows it
    next.follow(*p);
    CHECK(next.timeline() == 2);
    REQUIRE(next.promotion());
    CHECK(next.promotion()->acknowledged == 0x280);
    CHECK_FALSE(next.identified({"7300", 2, 0x400}, 0x280, false));  // the promoted server
}

TEST_CASE("promotion: promoted again before streaming keeps the older acknowledged position") {
    PromotionFollower f;
    f.identified({"7300", 1, 0}, 0, false);
    PromotionFollower next;
    next.follow(*f.identified({"7300", 2, 0}, 0x280, true));
    // The next loop reached yet another promoted server before it acknowledged anything there.
    const auto again = next.identified({"7300", 3, 0}, 0, false);
    REQUIRE(again);
    CHECK(again->promotion.old_timeline == 2);
    CHECK(again->promotion.acknowledged == 0x280);
    CHECK(again->promotion.from_standby);
}

TEST_CASE("promotion: another cluster is refused, never followed") {
    PromotionFollower f;
    f.identified({"7300", 1, 0}, 0, false);
    CHECK_THROWS_AS(f.identified({"9100", 2, 0}, 0, false), pgcs::source::StreamFailure);
}
