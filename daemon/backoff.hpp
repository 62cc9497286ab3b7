// Capped exponential backoff with full jitter, for reconnects to PostgreSQL and Kafka.
// https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace pgcs::daemon {

class Backoff {
  public:
    Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
            std::uint64_t seed = std::random_device{}())
        : initial_(initial), max_(std::max(initial, max)), rng_(seed) {}

    // The next delay: uniformly random in [ceiling/2, ceiling], where the ceiling doubles from
    // `initial` on each call up to `max`. Half the ceiling is kept so retries never bunch at 0.
    std::chrono::milliseconds next() {
        const auto ceiling = std::min(max_, initial_ * (std::int64_t{1} << std::min(attempt_, 30)));
        ++attempt_;
        std::uniform_int_distribution<std::int64_t> pick(ceiling.count() / 2, ceiling.count());
        return std::chrono::milliseconds(pick(rng_));
    }

    // After a success: start again from `initial`.
    void reset() { attempt_ = 0; }
    int attempts() const { return attempt_; }

  private:
    std::chrono::milliseconds initial_;
    std::chrono::milliseconds max_;
    std::mt19937_64 rng_;
    int attempt_ = 0;
};

}  // namespace pgcs::daemon
