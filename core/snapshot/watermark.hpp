// The content of a snapshot chunk's watermark message (pg_logical_emit_message with
// kWatermarkPrefix): "<slot>/<run id>/<chunk id>". The slot tells this daemon's watermarks from
// another's on the same database; the run id, random per run, from those an earlier run of this
// daemon left in the WAL, whose chunks are gone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgcs::snapshot {

class Watermark {
  public:
    Watermark(std::string_view slot, std::string_view run_id);

    // A random run id: 16 hexadecimal digits.
    static std::string new_run_id();

    // The content of chunk `chunk_id`'s watermark.
    std::string content(std::uint64_t chunk_id) const;
    // The chunk a watermark's content names; std::nullopt when it is another slot's or
    // another run's, or not a watermark of ours at all.
    std::optional<std::uint64_t> chunk_id(std::string_view content) const;

  private:
    std::string prefix_;  // "<slot>/<run id>/"
};

}  // namespace pgcs::snapshot
