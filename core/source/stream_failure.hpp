// A failure the operator must act on: the stream stops without acknowledging past it (a broken
// protocol framing, an event Kafka refused, a snapshot that cannot be read). Its text says what
// went wrong and what to do.
#pragma once

#include <stdexcept>

namespace pgcs::source {

class StreamFailure : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace pgcs::source
