// A failure the operator must act on (a broken protocol framing, a server too old, a missing
// privilege, a slot gone, an event Kafka refused): the stream stops without acknowledging past
// it, and the message says what to do. The daemon logs it and exits.
#pragma once

#include <stdexcept>

namespace pgcs::source {

class StreamFailure : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The configuration asks for what this server cannot do (postgres.failover on PostgreSQL 16): a
// configuration error, exit 2, found only once connected.
class ConfigFailure : public StreamFailure {
  public:
    using StreamFailure::StreamFailure;
};

// A server pgchangeset does not run against (PostgreSQL 13 and older): a configuration problem
// (exit 2), never retried.
class UnsupportedServer : public ConfigFailure {
  public:
    using ConfigFailure::ConfigFailure;
};

}  // namespace pgcs::source
