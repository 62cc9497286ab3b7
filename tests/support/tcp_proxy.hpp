// A TCP proxy on 127.0.0.1 for fault tests: forwards each accepted connection to an upstream
// host:port. stall() freezes every connection open at that moment (they stay open, nothing
// passes: a silent network path); connections made later are forwarded normally.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pgcs::testing {

class TcpProxy {
  public:
    TcpProxy(std::string upstream_host, int upstream_port)
        : host_(std::move(upstream_host)), upstream_port_(upstream_port) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(listen_fd_, 16) != 0) {
            throw std::runtime_error("test proxy cannot listen");
        }
        socklen_t len = sizeof a;
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~TcpProxy() {
        running_ = false;
        thread_.join();
        ::close(listen_fd_);
        for (auto& p : pairs_) {
            ::close(p.client);
            ::close(p.server);
        }
    }

    int port() const { return port_; }

    // Freezes every connection open now.
    void stall() {
        std::lock_guard lock(mu_);
        for (auto& p : pairs_) {
            p.stalled = true;
        }
        ++stalls_;
    }
    int connections() {
        std::lock_guard lock(mu_);
        return static_cast<int>(pairs_.size());
    }

  private:
    struct Pair {
        int client;
        int server;
        bool stalled = false;
        bool closed = false;
    };

    int connect_upstream() const {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(upstream_port_));
        ::inet_pton(AF_INET, host_.c_str(), &a.sin_addr);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd);
            return -1;
        }
        return fd;
    }

    static bool forward(int from, int to) {
        char buf[65536];
        const ssize_t n = ::read(from, buf, sizeof buf);
        if (n <= 0) {
            return false;
        }
        for (ssize_t done = 0; done < n;) {
            const ssize_t w = ::write(to, buf + done, static_cast<std::size_t>(n - done));
            if (w <= 0) {
                return false;
            }
            done += w;
        }
        return true;
    }

    void run() {
        while (running_) {
            std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
            std::vector<std::pair<std::size_t, bool>> owners;  // pair index, from client
            {
                std::lock_guard lock(mu_);
                for (std::size_t i = 0; i < pairs_.size(); ++i) {
                    if (pairs_[i].stalled || pairs_[i].closed) {
                        continue;
                    }
                    fds.push_back({pairs_[i].client, POLLIN, 0});
                    owners.emplace_back(i, true);
                    fds.push_back({pairs_[i].server, POLLIN, 0});
                    owners.emplace_back(i, false);
                }
            }
            if (::poll(fds.data(), fds.size(), 50) <= 0) {
                continue;
            }
            if (fds[0].revents & POLLIN) {
                const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
                const int server = client >= 0 ? connect_upstream() : -1;
                if (server < 0) {
                    if (client >= 0) {
                        ::close(client);
                    }
                } else {
                    std::lock_guard lock(mu_);
                    pairs_.push_back({client, server});
                }
            }
            std::lock_guard lock(mu_);
            for (std::size_t k = 1; k < fds.size(); ++k) {
                if (fds[k].revents == 0) {
                    continue;
                }
                Pair& p = pairs_[owners[k - 1].first];
                if (p.stalled || p.closed) {
                    continue;
                }
                const bool from_client = owners[k - 1].second;
                if (!forward(from_client ? p.client : p.server, from_client ? p.server : p.client)) {
                    ::shutdown(p.client, SHUT_RDWR);
                    ::shutdown(p.server, SHUT_RDWR);
                    p.closed = true;
                }
            }
        }
    }

    std::string host_;
    int upstream_port_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> running_{true};
    std::thread thread_;
    std::mutex mu_;
    std::vector<Pair> pairs_;
    int stalls_ = 0;
};

}  // namespace pgcs::testing
