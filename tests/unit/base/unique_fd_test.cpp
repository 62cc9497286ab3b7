// Tests for UniqueFd: it closes what it owns on destruction and on reset(), a move hands the
// descriptor over (the moved-from one closes nothing), and release() gives it up unclosed.
#include "core/base/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <utility>

namespace {

using pgcs::base::UniqueFd;

bool is_open(int fd) {
    return fcntl(fd, F_GETFD) != -1;
}

bool is_closed(int fd) {
    errno = 0;
    return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

// A fresh descriptor, owned by the caller.
int open_fd() {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    return fd;
}

}  // namespace

TEST_CASE("a default UniqueFd owns nothing") {
    const UniqueFd none;
    CHECK(none.get() == -1);
    CHECK_FALSE(none.valid());
    CHECK_FALSE(static_cast<bool>(none));
    const UniqueFd failed(-1);  // what a failed open() returns
    CHECK_FALSE(failed.valid());
}

TEST_CASE("UniqueFd closes its descriptor on destruction") {
    const int fd = open_fd();
    {
        const UniqueFd owner(fd);
        CHECK(owner.get() == fd);
        CHECK(owner.valid());
        CHECK(static_cast<bool>(owner));
        CHECK(is_open(fd));
    }
    CHECK(is_closed(fd));
}

TEST_CASE("moving a UniqueFd transfers ownership") {
    const int fd = open_fd();
    UniqueFd to;
    {
        UniqueFd from(fd);
        UniqueFd middle(std::move(from));  // move construction
        CHECK_FALSE(from.valid());         // NOLINT(bugprone-use-after-move): the point
        CHECK(middle.get() == fd);
        to = std::move(middle);       // move assignment
        CHECK_FALSE(middle.valid());  // NOLINT(bugprone-use-after-move)
    }
    // The moved-from ones are gone and did not close it.
    CHECK(to.get() == fd);
    CHECK(is_open(fd));
    to = UniqueFd();
    CHECK(is_closed(fd));
}

TEST_CASE("move assignment closes the descriptor it replaces") {
    const int old_fd = open_fd();
    const int new_fd = open_fd();
    UniqueFd owner(old_fd);
    owner = UniqueFd(new_fd);
    CHECK(is_closed(old_fd));
    CHECK(owner.get() == new_fd);
    CHECK(is_open(new_fd));
}

TEST_CASE("reset closes the old descriptor and owns the new one") {
    const int old_fd = open_fd();
    const int new_fd = open_fd();
    UniqueFd owner(old_fd);
    owner.reset(new_fd);
    CHECK(is_closed(old_fd));
    CHECK(owner.get() == new_fd);
    CHECK(is_open(new_fd));

    SECTION("reset() with no argument closes and owns nothing") {
        owner.reset();
        CHECK(is_closed(new_fd));
        CHECK_FALSE(owner.valid());
    }
    SECTION("resetting to the descriptor already owned keeps it open") {
        owner.reset(new_fd);
        CHECK(is_open(new_fd));
        CHECK(owner.get() == new_fd);
    }
}

TEST_CASE("release gives the descriptor up without closing it") {
    const int fd = open_fd();
    {
        UniqueFd owner(fd);
        CHECK(owner.release() == fd);
        CHECK_FALSE(owner.valid());
    }
    CHECK(is_open(fd));
    ::close(fd);
}

TEST_CASE("both ends of a pipe are closed by their owners") {
    std::array<int, 2> fds{-1, -1};
    REQUIRE(pipe2(fds.data(), O_CLOEXEC) == 0);
    {
        const UniqueFd read_end(fds[0]);
        const UniqueFd write_end(fds[1]);
    }
    CHECK(is_closed(fds[0]));
    CHECK(is_closed(fds[1]));
}
