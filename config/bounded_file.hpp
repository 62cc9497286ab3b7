// Reads the files a configuration names (the config itself, postgres.password_file) with a
// size limit, refusing anything but a regular file: a device such as /dev/zero or a FIFO
// would otherwise be read without end.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>

namespace pgcs::config::detail {

inline constexpr std::size_t kMaxConfigFileBytes = std::size_t{1} << 20;     // 1 MiB
inline constexpr std::size_t kMaxPasswordFileBytes = std::size_t{64} << 10;  // 64 KiB

struct FileText {
    std::string text;
    mode_t mode = 0;  // the file's permission bits (st_mode & 07777)
};

// The whole file, or std::nullopt with `error` set to why not (missing, not readable, not a
// regular file, larger than `max_bytes`).
std::optional<FileText> read_bounded_file(const std::string& path, std::size_t max_bytes,
                                          std::string& error);

// "1 MiB", "64 KiB", "100 bytes": a limit as the messages show it.
std::string size_text(std::size_t bytes);

}  // namespace pgcs::config::detail
