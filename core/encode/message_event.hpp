// A logical decoding message (pg_logical_emit_message) as the encoders take it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace pgcs::encode {

// The transactional fields are empty for a non-transactional message.
struct MessageEvent {
    std::string_view prefix;
    std::string_view content;
    bool transactional = false;
    std::optional<std::int64_t> commit_time;
    std::int64_t captured_time = 0;
    std::optional<std::uint32_t> xid;
    std::uint64_t lsn = 0;
    std::optional<std::uint64_t> commit_lsn;
    std::optional<std::uint64_t> seq;
};

}  // namespace pgcs::encode
