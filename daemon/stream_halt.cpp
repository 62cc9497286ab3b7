// Halted on an event too large for Kafka: what the log says, and the wait until that
// transaction is tried again (README, "Halted on an event too large").
#include "daemon/stream_loop_impl.hpp"

namespace pgcs::daemon::detail {

int StreamLoop::halt(const EventRefused& e) {
    halt_ = e.info();
    const HaltInfo& h = *halt_;
    spdlog::error("{}", h.what);
    spdlog::error(
        "halted: the event of {} bytes on {} (key {}, transaction ending at {}) is too large "
        "for Kafka; nothing from that transaction on is acknowledged, the slot keeps it and it "
        "is tried again every {} ms (reconnect.halted_retry_ms)",
        h.bytes, h.table, h.key.empty() ? "null" : h.key, format_lsn(h.end_lsn),
        config_.reconnect.halted_retry_ms);
    if (h.reason == "producer_queue_size") {
        spdlog::error(
            "what to do: raise kafka.properties queue.buffering.max.kbytes above {} KiB, then "
            "restart the daemon (the producer's own limit: a retry without a restart cannot "
            "pass); or leave the large column out of the publication",
            h.bytes / 1024 + 1);
    } else if (h.restart_needed) {
        spdlog::error(
            "what to do: raise kafka.properties message.max.bytes above {} bytes, then restart "
            "the daemon (the producer's own limit: a retry without a restart cannot pass), and "
            "raise the topic's max.message.bytes too if it is lower (kafka-configs "
            "--bootstrap-server ... --alter --entity-type topics --entity-name {} --add-config "
            "max.message.bytes=N); or leave the large column out of the publication (ALTER "
            "PUBLICATION ... SET TABLE ... (columns))",
            h.bytes, h.topic);
    } else {
        spdlog::error(
            "what to do: raise the topic's max.message.bytes above {} bytes (kafka-configs "
            "--bootstrap-server ... --alter --entity-type topics --entity-name {} --add-config "
            "max.message.bytes=N, or the broker's message.max.bytes): the next retry then passes "
            "without a restart; kafka.properties message.max.bytes must be above it too (the "
            "producer's own limit: changing it needs a restart); or leave the large column out "
            "of the publication (ALTER PUBLICATION ... SET TABLE ... (columns))",
            h.bytes, h.topic);
    }
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
