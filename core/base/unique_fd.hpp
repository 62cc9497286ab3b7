// The one owner of a POSIX file descriptor (an eventfd, a pipe end, a spill file): closes it
// on destruction, moves but never copies, like std::unique_ptr. None of the libraries the
// project uses offers one.
#pragma once

#include <unistd.h>

#include <utility>

namespace pgcs::base {

class UniqueFd {
  public:
    UniqueFd() noexcept = default;
    // Takes ownership of `fd`; a negative value (a failed open, pipe2, eventfd) owns nothing.
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    ~UniqueFd() { reset(); }

    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    // The descriptor, still owned; -1 when none.
    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }

    // Closes the descriptor owned (if any, and unless it is `fd` itself), then owns `fd`.
    // close() is not retried on EINTR: on Linux the descriptor is released even then, and a
    // retry could close one another thread has just opened.
    void reset(int fd = -1) noexcept {
        const int old = std::exchange(fd_, fd);
        if (old >= 0 && old != fd) {
            ::close(old);
        }
    }

    // Gives up ownership without closing: the caller closes the returned descriptor.
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

  private:
    int fd_ = -1;
};

}  // namespace pgcs::base
