// SPDX-License-Identifier: MIT
// loadgen: address parsing and socket helpers.
#include "loadgen_net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace loadgen {

std::uint16_t Endpoint::port() const {
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

std::string Endpoint::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, text,
              sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(port());
  }
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(port());
}

namespace {
bool parse_port(const std::string& text, std::uint16_t& port) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}
}  // namespace

std::optional<Endpoint> parse_endpoint(const std::string& text, std::string& error) {
  std::string host;
  std::string port_text;
  bool v6 = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "'" + text + "' is not [IPv6]:PORT";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    v6 = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      error = "'" + text + "' has no port; expected A.B.C.D:PORT or [IPv6]:PORT";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host == "localhost") host = "127.0.0.1";
  }
  std::uint16_t port = 0;
  if (!parse_port(port_text, port)) {
    error = "'" + port_text + "' in '" + text + "' is not a port number (0-65535)";
    return std::nullopt;
  }
  Endpoint endpoint;
  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&endpoint.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1) {
      error = "'" + host + "' is not a numeric IPv6 address";
      return std::nullopt;
    }
    endpoint.length = sizeof(sockaddr_in6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&endpoint.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1) {
      error = "'" + host + "' is not a numeric IPv4 address (use [v6]:PORT for IPv6)";
      return std::nullopt;
    }
    endpoint.length = sizeof(sockaddr_in);
  }
  return endpoint;
}

std::optional<Endpoint> local_endpoint(int fd) {
  Endpoint endpoint;
  endpoint.length = sizeof endpoint.storage;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&endpoint.storage), &endpoint.length) != 0) {
    return std::nullopt;
  }
  return endpoint;
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) reset(std::exchange(other.fd_, -1));
  return *this;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string errno_text(int err) {
  return std::strerror(err);
}

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void set_nodelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int open_listener(const Endpoint& at) {
  const int fd = socket(at.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, at.addr(), at.length) != 0 || listen(fd, SOMAXCONN) != 0) {
    const int err = errno;
    ::close(fd);
    return -err;
  }
  return fd;
}

int start_connect(const Endpoint& to) {
  const int fd = socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (connect(fd, to.addr(), to.length) != 0 && errno != EINPROGRESS) {
    const int err = errno;
    ::close(fd);
    return -err;
  }
  return fd;
}

int connect_result(int fd) {
  int err = 0;
  socklen_t length = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &length) != 0) return errno;
  return err;
}

int connect_blocking(const Endpoint& to, int timeout_ms) {
  const int fd = start_connect(to);
  if (fd < 0) return fd;
  pollfd waiter{fd, POLLOUT, 0};
  const int ready = poll(&waiter, 1, timeout_ms);
  const int err = ready == 0 ? ETIMEDOUT : ready < 0 ? errno : connect_result(fd);
  if (err != 0) {
    ::close(fd);
    return -err;
  }
  const int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

std::uint64_t raise_nofile_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

}  // namespace loadgen
