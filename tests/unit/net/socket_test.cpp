// SPDX-License-Identifier: MIT
// Tests for net::UniqueFd and the TCP socket helpers, against the real kernel over loopback.
#include "net/socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "net/socket_address.hpp"
#include "net/unique_fd.hpp"

// Addresses are compared through to_string() here so that a failure prints both sides.
using ringtunnel::net::connect_tcp_blocking;
using ringtunnel::net::listen_tcp;
using ringtunnel::net::local_address;
using ringtunnel::net::peer_address;
using ringtunnel::net::ReusePort;
using ringtunnel::net::set_nonblocking;
using ringtunnel::net::set_tcp_nodelay;
using ringtunnel::net::socket_error;
using ringtunnel::net::SocketAddress;
using ringtunnel::net::tcp_loopback_pair;
using ringtunnel::net::tcp_socket;
using ringtunnel::net::UniqueFd;

namespace {

bool fd_is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

bool has_status_flag(int fd, int flag) {
  return (::fcntl(fd, F_GETFL) & flag) != 0;
}

bool has_cloexec(int fd) {
  return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

int int_option(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof(value);
  REQUIRE(::getsockopt(fd, level, name, &value, &length) == 0);
  return value;
}

// Some containers have no IPv6 loopback; tests that need it skip with a warning.
bool ipv6_loopback_available() {
  auto probe = listen_tcp(SocketAddress::loopback_v6(0), ReusePort::no);
  if (probe.ok()) return true;
  WARN("IPv6 loopback unavailable (" << probe.error().message() << "): skipping IPv6 case");
  return false;
}

// Writes all of `text` to `from`, then reads exactly that many bytes from `to`.
std::string pass_bytes(int from, int to, std::string_view text) {
  REQUIRE(::write(from, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  std::string received(text.size(), '\0');
  std::size_t got = 0;
  while (got < received.size()) {
    const ssize_t n = ::read(to, received.data() + got, received.size() - got);
    REQUIRE(n > 0);
    got += static_cast<std::size_t>(n);
  }
  return received;
}

}  // namespace

TEST_CASE("UniqueFd owns, moves, releases and closes", "[net][unique_fd]") {
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  const int read_end = pipe_fds[0];
  const int write_end = pipe_fds[1];

  SECTION("destructor closes") {
    { UniqueFd owner(read_end); }
    CHECK_FALSE(fd_is_open(read_end));
    UniqueFd cleanup(write_end);
  }
  SECTION("move transfers ownership, moved-from is empty") {
    UniqueFd a(read_end);
    UniqueFd b(std::move(a));
    CHECK_FALSE(a);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    CHECK(a.get() == -1);
    REQUIRE(b);
    CHECK(b.get() == read_end);
    UniqueFd c(write_end);
    c = std::move(b);  // closes write_end, takes read_end
    CHECK_FALSE(fd_is_open(write_end));
    CHECK(c.get() == read_end);
    auto& alias = c;
    c = std::move(alias);  // self-move keeps the fd
    CHECK(fd_is_open(read_end));
  }
  SECTION("release gives up ownership without closing") {
    UniqueFd owner(read_end);
    const int released = owner.release();
    CHECK(released == read_end);
    CHECK_FALSE(owner);
    owner.reset();
    CHECK(fd_is_open(read_end));
    ::close(read_end);
    ::close(write_end);
  }
  SECTION("reset closes the old fd and adopts the new one") {
    UniqueFd owner(read_end);
    owner.reset(write_end);
    CHECK_FALSE(fd_is_open(read_end));
    CHECK(owner.get() == write_end);
    owner.reset();
    CHECK_FALSE(owner);
    CHECK_FALSE(fd_is_open(write_end));
  }
  SECTION("negative fds mean empty") {
    CHECK_FALSE(UniqueFd());
    CHECK(UniqueFd(-7).get() == -1);
    ::close(read_end);
    ::close(write_end);
  }
}

TEST_CASE("listen_tcp on 127.0.0.1:0 binds an ephemeral non-blocking listener", "[net][socket]") {
  auto listener = listen_tcp(SocketAddress::loopback_v4(0), ReusePort::no);
  REQUIRE(listener.ok());
  const int fd = listener->get();
  CHECK(has_status_flag(fd, O_NONBLOCK));
  CHECK(has_cloexec(fd));
  CHECK(int_option(fd, SOL_SOCKET, SO_REUSEADDR) == 1);
  CHECK(int_option(fd, SOL_SOCKET, SO_REUSEPORT) == 0);
  CHECK(int_option(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1);

  auto bound = local_address(fd);
  REQUIRE(bound.ok());
  CHECK(bound->family() == AF_INET);
  CHECK(bound->port() != 0);
  CHECK(bound->to_string() == "127.0.0.1:" + std::to_string(bound->port()));

  // Non-blocking: nobody is connecting, so accept must not wait.
  const int accepted = ::accept4(fd, nullptr, nullptr, 0);
  const int accept_errno = errno;
  CHECK(accepted == -1);
  CHECK(accept_errno == EAGAIN);
}

TEST_CASE("listen_tcp on [::1]:0 binds an IPv6-only listener", "[net][socket]") {
  if (!ipv6_loopback_available()) return;
  auto listener = listen_tcp(SocketAddress::loopback_v6(0), ReusePort::no);
  REQUIRE(listener.ok());
  CHECK(int_option(listener->get(), IPPROTO_IPV6, IPV6_V6ONLY) == 1);
  auto bound = local_address(listener->get());
  REQUIRE(bound.ok());
  CHECK(bound->family() == AF_INET6);
  CHECK(bound->port() != 0);
  CHECK(bound->to_string() == "[::1]:" + std::to_string(bound->port()));

  auto client = connect_tcp_blocking(bound.value());
  REQUIRE(client.ok());
  auto client_peer = peer_address(client->get());
  REQUIRE(client_peer.ok());
  CHECK(client_peer->to_string() == bound->to_string());
}

TEST_CASE("IPv4 and IPv6 wildcard listeners coexist on one port", "[net][socket]") {
  if (!ipv6_loopback_available()) return;
  auto v6 = listen_tcp(SocketAddress::parse("[::]:0").value(), ReusePort::no);
  REQUIRE(v6.ok());
  auto port = local_address(v6->get());
  REQUIRE(port.ok());
  auto v4 = listen_tcp(SocketAddress::ipv4(INADDR_ANY, port->port()), ReusePort::no);
  INFO("binding 0.0.0.0:" << port->port() << " beside [::]: " << v4.error().message());
  CHECK(v4.ok());
}

TEST_CASE("ReusePort::yes lets two listeners share a port, ReusePort::no does not",
          "[net][socket]") {
  auto first = listen_tcp(SocketAddress::loopback_v4(0), ReusePort::yes);
  REQUIRE(first.ok());
  CHECK(int_option(first->get(), SOL_SOCKET, SO_REUSEPORT) == 1);
  auto bound = local_address(first->get());
  REQUIRE(bound.ok());

  auto second = listen_tcp(bound.value(), ReusePort::yes);
  REQUIRE(second.ok());
  auto second_bound = local_address(second->get());
  REQUIRE(second_bound.ok());
  CHECK(second_bound->to_string() == bound->to_string());

  auto refused = listen_tcp(bound.value(), ReusePort::no);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == std::errc::address_in_use);
}

TEST_CASE("listen_tcp refuses an empty address", "[net][socket]") {
  auto listener = listen_tcp(SocketAddress(), ReusePort::no);
  REQUIRE_FALSE(listener.ok());
  CHECK(listener.error() == std::errc::address_family_not_supported);
}

TEST_CASE("tcp_loopback_pair passes bytes both ways and its addresses agree", "[net][socket]") {
  auto pair = tcp_loopback_pair();
  REQUIRE(pair.ok());
  auto& [connected, accepted] = pair.value();
  REQUIRE(connected);
  REQUIRE(accepted);
  CHECK_FALSE(has_status_flag(connected.get(), O_NONBLOCK));
  CHECK_FALSE(has_status_flag(accepted.get(), O_NONBLOCK));
  CHECK(has_cloexec(connected.get()));
  CHECK(has_cloexec(accepted.get()));

  CHECK(pass_bytes(connected.get(), accepted.get(), "ping") == "ping");
  CHECK(pass_bytes(accepted.get(), connected.get(), "pong, longer reply") == "pong, longer reply");

  auto connected_local = local_address(connected.get());
  auto connected_peer = peer_address(connected.get());
  auto accepted_local = local_address(accepted.get());
  auto accepted_peer = peer_address(accepted.get());
  REQUIRE(connected_local.ok());
  REQUIRE(connected_peer.ok());
  REQUIRE(accepted_local.ok());
  REQUIRE(accepted_peer.ok());
  CHECK(connected_peer->to_string() == accepted_local->to_string());
  CHECK(accepted_peer->to_string() == connected_local->to_string());
  CHECK(connected_local->family() == AF_INET);
  CHECK(connected_peer->to_string().rfind("127.0.0.1:", 0) == 0);

  connected.reset();
  char byte = 0;
  CHECK(::read(accepted.get(), &byte, 1) == 0);  // orderly EOF after the peer closes
}

TEST_CASE("tcp_socket makes a non-blocking socket whose connect reports via SO_ERROR",
          "[net][socket]") {
  // Find a port nobody listens on: bind one, note it, close it.
  auto closed = [] {
    auto probe = listen_tcp(SocketAddress::loopback_v4(0), ReusePort::no);
    REQUIRE(probe.ok());
    return local_address(probe->get()).value();
  }();

  auto socket = tcp_socket(AF_INET);
  REQUIRE(socket.ok());
  const int fd = socket->get();
  CHECK(has_status_flag(fd, O_NONBLOCK));
  CHECK(has_cloexec(fd));
  CHECK(socket_error(fd).value() == 0);

  const int rc = ::connect(fd, closed.sockaddr(), closed.length());
  const int connect_errno = rc == 0 ? 0 : errno;
  if (connect_errno == EINPROGRESS) {
    pollfd entry{fd, POLLOUT, 0};
    REQUIRE(::poll(&entry, 1, 5000) == 1);
    CHECK(socket_error(fd).value() == ECONNREFUSED);
    CHECK(socket_error(fd).value() == 0);  // reading SO_ERROR clears it
  } else {
    CHECK(connect_errno == ECONNREFUSED);
  }
}

TEST_CASE("tcp_socket refuses non-IP families", "[net][socket]") {
  CHECK(tcp_socket(AF_UNIX).error() == std::errc::address_family_not_supported);
  CHECK(tcp_socket(AF_UNSPEC).error() == std::errc::address_family_not_supported);
  auto v6 = tcp_socket(AF_INET6);
  if (!v6.ok()) WARN("no IPv6 sockets: " << v6.error().message());
}

TEST_CASE("connect_tcp_blocking reaches a listener and reports refusal", "[net][socket]") {
  auto listener = listen_tcp(SocketAddress::loopback_v4(0), ReusePort::no);
  REQUIRE(listener.ok());
  auto bound = local_address(listener->get());
  REQUIRE(bound.ok());

  auto client = connect_tcp_blocking(bound.value());
  REQUIRE(client.ok());
  CHECK_FALSE(has_status_flag(client->get(), O_NONBLOCK));
  CHECK(peer_address(client->get())->to_string() == bound->to_string());

  listener->reset();
  auto refused = connect_tcp_blocking(bound.value());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == std::errc::connection_refused);
}

TEST_CASE("socket options: TCP_NODELAY and O_NONBLOCK", "[net][socket]") {
  auto pair = tcp_loopback_pair();
  REQUIRE(pair.ok());
  const int fd = pair->first.get();

  CHECK(int_option(fd, IPPROTO_TCP, TCP_NODELAY) == 0);
  REQUIRE(set_tcp_nodelay(fd).ok());
  CHECK(int_option(fd, IPPROTO_TCP, TCP_NODELAY) == 1);

  const int before = ::fcntl(fd, F_GETFL);
  REQUIRE(set_nonblocking(fd).ok());
  CHECK(::fcntl(fd, F_GETFL) == (before | O_NONBLOCK));
  REQUIRE(set_nonblocking(fd).ok());  // idempotent
  char byte = 0;
  const ssize_t n = ::read(fd, &byte, 1);
  const int read_errno = errno;
  CHECK(n == -1);
  CHECK(read_errno == EAGAIN);
}

TEST_CASE("socket helpers report the failing syscall's errno", "[net][socket]") {
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);

  CHECK(local_address(-1).error() == std::errc::bad_file_descriptor);
  CHECK(peer_address(-1).error() == std::errc::bad_file_descriptor);
  CHECK(socket_error(-1).error() == std::errc::bad_file_descriptor);
  CHECK(set_tcp_nodelay(-1).error() == std::errc::bad_file_descriptor);
  CHECK(set_nonblocking(-1).error() == std::errc::bad_file_descriptor);
  CHECK(local_address(read_end.get()).error() == std::errc::not_a_socket);
  CHECK(set_tcp_nodelay(read_end.get()).error() == std::errc::not_a_socket);

  auto unconnected = tcp_socket(AF_INET);
  REQUIRE(unconnected.ok());
  CHECK(peer_address(unconnected->get()).error() == std::errc::not_connected);
}
