// SPDX-License-Identifier: MIT
// SocketAddress: an IPv4 or IPv6 address and port, parsed from numeric text, printable back.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/result.hpp"

namespace ringtunnel::net {

/// An AF_INET or AF_INET6 socket address (a `sockaddr_storage` plus its length), ready to
/// hand to bind/connect/sendto or to an io_uring SQE.
///
/// Only numeric addresses are understood. Host-name resolution is deliberately not in scope:
/// it blocks (getaddrinfo), and a later non-blocking resolver in src/net/ will produce
/// SocketAddress values. The one name accepted is `localhost`, which means 127.0.0.1.
///
/// A default-constructed SocketAddress is empty: family() is AF_UNSPEC and length() is 0.
/// Values are plain data; any thread may use its own copy.
class SocketAddress {
 public:
  SocketAddress() noexcept;

  /// Parses the text forms a user may write in a config or on a command line:
  ///   `A.B.C.D:PORT`, `[v6]:PORT` (e.g. `[::1]:9000`, scoped `[fe80::1%lo]:1`),
  ///   `localhost:PORT` (127.0.0.1), and `*:PORT` or `:PORT` (0.0.0.0, every IPv4 interface).
  /// PORT is decimal 0-65535; 0 asks the kernel for an ephemeral port when listening.
  /// Errors: std::errc::invalid_argument for every malformed text; `parse_error_text` says why.
  static Result<SocketAddress> parse(std::string_view text);

  /// One sentence naming what is wrong with `text`, quoting it, e.g.
  /// "port 70000 is out of range (0-65535) in '127.0.0.1:70000'". Empty when `text` parses.
  static std::string parse_error_text(std::string_view text);

  /// An IPv4 address from a host-order integer (0x7f000001 is 127.0.0.1).
  static SocketAddress ipv4(std::uint32_t host_order_addr, std::uint16_t port) noexcept;
  /// An IPv6 address; `scope_id` is the interface index for link-local addresses (0 = none).
  static SocketAddress ipv6(const in6_addr& addr, std::uint16_t port,
                            std::uint32_t scope_id = 0) noexcept;
  static SocketAddress loopback_v4(std::uint16_t port) noexcept;  ///< 127.0.0.1:port
  static SocketAddress loopback_v6(std::uint16_t port) noexcept;  ///< [::1]:port

  /// Copies a kernel-filled address (accept, getsockname, recvfrom).
  /// Errors: EAFNOSUPPORT for a family other than AF_INET/AF_INET6; EINVAL when `length` is
  /// too short for that family or `addr` is null.
  static Result<SocketAddress> from_sockaddr(const ::sockaddr* addr, socklen_t length);

  /// Pointer and length for bind/connect/sendto; valid while this object lives.
  const ::sockaddr* sockaddr() const noexcept;
  socklen_t length() const noexcept { return length_; }
  /// AF_INET, AF_INET6, or AF_UNSPEC when empty.
  int family() const noexcept { return storage_.ss_family; }
  /// The port in host order (0 when empty).
  std::uint16_t port() const noexcept;
  /// Changes the port; the address must not be empty.
  void set_port(std::uint16_t port) noexcept;

  /// `1.2.3.4:80`, `[::1]:80`, `[fe80::1%lo]:80`; "<unspecified>" when empty.
  /// Parsing the result gives back an equal address.
  std::string to_string() const;

  /// Same family, address bytes, port and (for IPv6) scope. Flow info is ignored.
  friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

 private:
  // The storage is aligned for every sockaddr type; family() says which view is meaningful.
  const sockaddr_in& as_v4() const noexcept {
    return *reinterpret_cast<const sockaddr_in*>(&storage_);
  }
  const sockaddr_in6& as_v6() const noexcept {
    return *reinterpret_cast<const sockaddr_in6*>(&storage_);
  }

  sockaddr_storage storage_;
  socklen_t length_;
};

}  // namespace ringtunnel::net
