// Bounded reads of the files a configuration names; see bounded_file.hpp.
#include "config/bounded_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/base/unique_fd.hpp"

namespace pgcs::config::detail {

std::string size_text(std::size_t bytes) {
    if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0) {
        return std::to_string(bytes >> 20) + " MiB";
    }
    if (bytes >= 1024 && bytes % 1024 == 0) {
        return std::to_string(bytes >> 10) + " KiB";
    }
    return std::to_string(bytes) + " bytes";
}

std::optional<FileText> read_bounded_file(const std::string& path, std::size_t max_bytes,
                                          std::string& error) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; the type check below refuses it.
    base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd.valid()) {
        error = std::strerror(errno);
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        error = std::strerror(errno);
        return std::nullopt;
    }
    if (S_ISDIR(st.st_mode)) {
        error = "it is a directory, not a file";
        return std::nullopt;
    }
    if (!S_ISREG(st.st_mode)) {
        error = std::string("it is not a regular file (it is a ") +
                (S_ISFIFO(st.st_mode)   ? "FIFO"
                 : S_ISCHR(st.st_mode)  ? "character device"
                 : S_ISBLK(st.st_mode)  ? "block device"
                 : S_ISSOCK(st.st_mode) ? "socket"
                                        : "special file") +
                "); name a regular file";
        return std::nullopt;
    }
    auto too_large = [&] {
        error = "it is larger than the limit of " + size_text(max_bytes) +
                "; name the right file, or shorten it";
    };
    if (static_cast<std::size_t>(st.st_size) > max_bytes) {
        too_large();
        return std::nullopt;
    }
    FileText out;
    out.mode = st.st_mode & 07777;
    // Read one byte past the limit: the file may have grown since fstat().
    std::string& text = out.text;
    text.resize(max_bytes + 1);
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            error = std::strerror(errno);
            return std::nullopt;
        }
        if (n == 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    if (got > max_bytes) {
        too_large();
        return std::nullopt;
    }
    text.resize(got);
    return out;
}

}  // namespace pgcs::config::detail
