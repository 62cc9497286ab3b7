// A chunk's rows completed at the watermark; see chunk_row_writer.hpp.
#include "core/snapshot/chunk_row_writer.hpp"

namespace pgcs::snapshot {

void ChunkRowWriter::start(encode::EventEncoder& encoder,
                           const SnapshotCoordinator::PendingChunk& chunk,
                           const changeset::EventMeta& meta) {
    encoder_ = &encoder;
    chunk_ = &chunk;
    meta_head_.clear();  // the same for every row but seq
    encoder.snapshot_meta_head(meta_head_, *chunk.relation, meta);
    open_head_.clear();
    encoder.snapshot_open(open_head_, *chunk.relation);
}

std::optional<std::string_view> ChunkRowWriter::value(std::size_t i, std::uint64_t seq) {
    if (chunk_->dropped[i]) {
        return std::nullopt;
    }
    const std::string_view prefix = chunk_->chunk.encoded.value(i);
    const auto patch = chunk_->patched.empty()
                           ? chunk_->patched.end()
                           : chunk_->patched.find(static_cast<std::uint32_t>(i));
    value_.assign(open_head_);
    if (patch != chunk_->patched.end()) {  // the values the stream carried, laid over the row
        patch->second.apply(prefix, value_);
    } else {
        value_.append(prefix.data(), prefix.size());
    }
    value_.append(meta_head_);
    encoder_->snapshot_seq(value_, seq);
    return value_;
}

}  // namespace pgcs::snapshot
