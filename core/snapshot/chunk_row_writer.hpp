// A chunk a reader thread encoded goes out at its watermark: each row's value is completed
// with the watermark transaction's fields and its seq, a patched row with the stream's values
// laid over it (RowPatch), and a dropped row is left out (ChunkWindow).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/changeset/changeset.hpp"
#include "core/encode/event_encoder.hpp"
#include "core/snapshot/snapshot_coordinator.hpp"

namespace pgcs::snapshot {

class ChunkRowWriter {
  public:
    // The fields every row of `chunk` shares (`meta`: the watermark transaction's, seq unused).
    void start(encode::EventEncoder& encoder, const SnapshotCoordinator::PendingChunk& chunk,
               const changeset::EventMeta& meta);
    // Row `i`'s value with `seq`, valid until the next call; nullopt for a dropped row.
    std::optional<std::string_view> value(std::size_t i, std::uint64_t seq);

  private:
    encode::EventEncoder* encoder_ = nullptr;
    const SnapshotCoordinator::PendingChunk* chunk_ = nullptr;
    std::string meta_head_;  // the chunk's fields before seq
    std::string open_head_;  // what the chunk's row values start with
    std::string value_;
};

}  // namespace pgcs::snapshot
