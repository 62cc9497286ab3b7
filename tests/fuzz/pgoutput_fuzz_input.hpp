// How a fuzz input for the pgoutput decoder is laid out, shared by the fuzz target and its seed
// generator: byte 0 selects the DecodeOptions, the rest is one pgoutput message.
#pragma once

#include <cstdint>

#include "core/pgoutput/decoder.hpp"

namespace pgcs::fuzz {

// Bits 0-1: proto_version - 1 (1..4); bit 2: in_stream (only meaningful from version 2, so
// version 1 ignores it); bit 3: parallel (only meaningful at version 4, ignored below). Every
// selector byte maps to valid options.
inline pgoutput::DecodeOptions options_from_selector(std::uint8_t selector) {
    pgoutput::DecodeOptions options;
    options.proto_version = 1 + (selector & 3);
    options.in_stream = (selector & 4) != 0 && options.proto_version >= 2;
    options.parallel = (selector & 8) != 0 && options.proto_version >= 4;
    return options;
}

inline std::uint8_t selector_from_options(const pgoutput::DecodeOptions& options) {
    return static_cast<std::uint8_t>((options.proto_version - 1) | (options.in_stream ? 4 : 0) |
                                     (options.parallel ? 8 : 0));
}

}  // namespace pgcs::fuzz
