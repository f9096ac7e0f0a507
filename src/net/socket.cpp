// SPDX-License-Identifier: MIT
// TCP socket helpers: each one a few syscalls, errors returned as the failing syscall's errno.
#include "net/socket.hpp"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ringtunnel::net {
namespace {

// How long tcp_loopback_pair waits for the kernel to queue the connection it just made.
constexpr int kLoopbackAcceptTimeoutMs = 5000;

std::error_code last_error() {
  return errno_code(errno);
}

Result<UniqueFd> open_tcp_socket(int family, int type_flags) {
  if (family != AF_INET && family != AF_INET6) return errno_code(EAFNOSUPPORT);
  const int fd = ::socket(family, SOCK_STREAM | type_flags, IPPROTO_TCP);
  if (fd < 0) return last_error();
  return UniqueFd(fd);
}

Result<void> set_int_option(int fd, int level, int name, int value) {
  if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) return last_error();
  return {};
}

Result<SocketAddress> query_address(int fd, int (*query)(int, ::sockaddr*, socklen_t*)) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (query(fd, reinterpret_cast<::sockaddr*>(&storage), &length) != 0) return last_error();
  return SocketAddress::from_sockaddr(reinterpret_cast<const ::sockaddr*>(&storage), length);
}

// Waits for `events` on `fd`, retrying when a signal interrupts the wait.
Result<void> wait_for(int fd, short events, int timeout_ms) {
  pollfd entry{fd, events, 0};
  for (;;) {
    const int ready = ::poll(&entry, 1, timeout_ms);
    if (ready > 0) return {};
    if (ready == 0) return errno_code(ETIMEDOUT);
    if (errno != EINTR) return last_error();
  }
}

Result<UniqueFd> accept_blocking(int listener) {
  if (auto ready = wait_for(listener, POLLIN, kLoopbackAcceptTimeoutMs); !ready) {
    return ready.error();
  }
  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) return UniqueFd(fd);
    if (errno != EINTR) return last_error();
  }
}

}  // namespace

Result<UniqueFd> listen_tcp(const SocketAddress& address, ReusePort reuse_port, int backlog) {
  auto socket = tcp_socket(address.family());
  if (!socket) return socket.error();
  const int fd = socket->get();
  if (auto set = set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1); !set) return set.error();
  if (reuse_port == ReusePort::yes) {
    if (auto set = set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1); !set) return set.error();
  }
  if (address.family() == AF_INET6) {
    if (auto set = set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1); !set) return set.error();
  }
  if (::bind(fd, address.sockaddr(), address.length()) != 0) return last_error();
  if (::listen(fd, backlog) != 0) return last_error();
  return socket;
}

namespace {

Result<UniqueFd> udp_socket(int family) {
  if (family != AF_INET && family != AF_INET6) return errno_code(EAFNOSUPPORT);
  const int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return last_error();
  UniqueFd socket(fd);
  constexpr int kBuffer = 4 * 1024 * 1024;
  (void)set_int_option(fd, SOL_SOCKET, SO_RCVBUF, kBuffer);  // best effort: capped, not refused
  (void)set_int_option(fd, SOL_SOCKET, SO_SNDBUF, kBuffer);
  return socket;
}

}  // namespace

Result<UniqueFd> bind_udp(const SocketAddress& address, ReusePort reuse_port) {
  auto socket = udp_socket(address.family());
  if (!socket) return socket.error();
  const int fd = socket->get();
  if (reuse_port == ReusePort::yes) {
    if (auto set = set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1); !set) return set.error();
  }
  if (address.family() == AF_INET6) {
    if (auto set = set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1); !set) return set.error();
    if (auto set = set_int_option(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1); !set) return set.error();
  } else {
    if (auto set = set_int_option(fd, IPPROTO_IP, IP_PKTINFO, 1); !set) return set.error();
  }
  if (::bind(fd, address.sockaddr(), address.length()) != 0) return last_error();
  return socket;
}

Result<UniqueFd> connect_udp(const SocketAddress& address) {
  auto socket = udp_socket(address.family());
  if (!socket) return socket.error();
  if (::connect(socket->get(), address.sockaddr(), address.length()) != 0) return last_error();
  return socket;
}

Result<UniqueFd> tcp_socket(int family) {
  return open_tcp_socket(family, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

Result<SocketAddress> local_address(int fd) {
  return query_address(fd, ::getsockname);
}

Result<SocketAddress> peer_address(int fd) {
  return query_address(fd, ::getpeername);
}

Result<void> set_tcp_nodelay(int fd) {
  return set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
}

Result<void> set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return last_error();
  if ((flags & O_NONBLOCK) != 0) return {};
  if (::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return last_error();
  return {};
}

Result<int> socket_error(int fd) {
  int error = 0;
  socklen_t length = sizeof(error);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return last_error();
  return error;
}

Result<UniqueFd> connect_tcp_blocking(const SocketAddress& address) {
  auto socket = open_tcp_socket(address.family(), SOCK_CLOEXEC);
  if (!socket) return socket.error();
  const int fd = socket->get();
  if (::connect(fd, address.sockaddr(), address.length()) == 0) return socket;
  if (errno != EINTR) return last_error();
  // An interrupted connect carries on in the background and must not be retried (that gives
  // EALREADY): wait until it settles, then read its outcome.
  if (auto ready = wait_for(fd, POLLOUT, -1); !ready) return ready.error();
  const auto pending = socket_error(fd);
  if (!pending) return pending.error();
  if (pending.value() != 0) return errno_code(pending.value());
  return socket;
}

Result<std::pair<UniqueFd, UniqueFd>> tcp_loopback_pair() {
  auto listener = listen_tcp(SocketAddress::loopback_v4(0), ReusePort::no, 1);
  if (!listener) return listener.error();
  const auto bound = local_address(listener->get());
  if (!bound) return bound.error();
  auto connected = connect_tcp_blocking(bound.value());
  if (!connected) return connected.error();
  auto accepted = accept_blocking(listener->get());
  if (!accepted) return accepted.error();
  return std::pair{std::move(*connected), std::move(*accepted)};
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace ringtunnel::net
