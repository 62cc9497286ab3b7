// What the publisher reports of its work: the events it handed to the sink, by operation and
// table (the daemon counts them in its metrics).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pgcs::publish {

class EventObserver {
  public:
    virtual ~EventObserver() = default;
    // `count` events (of `bytes` together) handed to Kafka.
    virtual void events(std::string_view /*op*/, std::string_view /*table*/,
                        std::uint64_t /*count*/, std::size_t /*bytes*/) {}
};

}  // namespace pgcs::publish
