// Halted on an event too large for Kafka (core/sink/halt_info.hpp): the log, the observers, and
// the wait until that transaction is tried again (README, "Halted on an event too large").
#include "daemon/stream_loop_impl.hpp"

namespace pgcs::daemon::detail {

int StreamLoop::halt(const EventRefused& e) {
    halt_ = e.info();
    const HaltInfo& h = *halt_;
    spdlog::error("{}", h.what);
    spdlog::error("{}", sink::halt_summary(h, config_.reconnect.halted_retry_ms));
    spdlog::error("{}", sink::halt_advice(h));
    observer_.state("halted: an event of " + std::to_string(h.bytes) + " bytes on " + h.table +
                    " is too large for Kafka (" + h.reason + ")");
    shutdown(true, /*halting=*/true);
    return kHalted;
}

bool wait_while_halted(const config::Config& config, StopFlags flags, StreamObserver& observer,
                       const HaltInfo& halted) {
    observer.halted(halted);
    const auto until = Clock::now() + std::chrono::milliseconds(config.reconnect.halted_retry_ms);
    auto tick = Clock::now();
    while (Clock::now() < until) {
        if (flags.stop) {
            spdlog::info("stop requested while halted");
            observer.state("stopping");
            observer.streaming(false);
            return false;
        }
        if (flags.reload.exchange(false)) {
            observer.reload();
        }
        if (Clock::now() >= tick) {
            observer.halted_waiting();
            tick += std::chrono::seconds(1);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

}  // namespace pgcs::daemon::detail
