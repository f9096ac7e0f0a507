// SPDX-License-Identifier: MIT
// loadgen: addresses, owned fds and socket helpers over plain POSIX sockets (no project code).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace loadgen {

/// A numeric IPv4 or IPv6 socket address parsed from `A.B.C.D:PORT` or `[v6]:PORT`.
struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;

  [[nodiscard]] const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage); }
  [[nodiscard]] int family() const { return storage.ss_family; }
  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::string to_string() const;
};

/// Parses `A.B.C.D:PORT`, `localhost:PORT` (as 127.0.0.1) or `[v6]:PORT`. On failure returns
/// nullopt and sets `error` to a sentence naming what is wrong.
std::optional<Endpoint> parse_endpoint(const std::string& text, std::string& error);

/// The local address a socket is bound to (used to report the real port after binding port 0).
std::optional<Endpoint> local_endpoint(int fd);

/// Owns one file descriptor; closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// Text for an errno value, e.g. "Connection refused".
std::string errno_text(int err);

void set_nonblocking(int fd);
void set_nodelay(int fd);

/// A nonblocking listening socket with SO_REUSEADDR and a SOMAXCONN backlog, or -errno.
int open_listener(const Endpoint& at);

/// Starts a nonblocking connect. Returns the fd (connect done or in progress) or -errno.
int start_connect(const Endpoint& to);

/// After EPOLLOUT on a connecting socket: 0 if connected, else the pending errno (SO_ERROR).
int connect_result(int fd);

/// A connected socket (left blocking) within `timeout_ms`, or -errno (-ETIMEDOUT on timeout).
int connect_blocking(const Endpoint& to, int timeout_ms);

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
std::uint64_t raise_nofile_limit();

}  // namespace loadgen
