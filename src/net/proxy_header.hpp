// SPDX-License-Identifier: MIT
// PROXY protocol v2 header encoder: tells a local service who the visitor really is.
#pragma once

#include <cstddef>
#include <span>

#include "net/socket_address.hpp"

namespace ringtunnel::net {

/// Largest header encode_proxy_v2 writes (IPv6: 16-byte fixed part + 36 address bytes).
inline constexpr std::size_t kMaxProxyV2Header = 52;

/// The PROXY v2 header for a connection (`datagram`: a UDP flow) from `source` to `destination`:
/// signature, version 2 / command PROXY, the family of both addresses (both IPv4 -> AF_INET
/// block, both IPv6 -> AF_INET6; mixed: the IPv4 one written as an IPv4-mapped IPv6 address),
/// addresses and ports in network order, no TLVs. Returns the bytes written to the front of `out`.
///
/// HAProxy's proxy-protocol.txt, section 2.2. When either address is not IP (an empty
/// SocketAddress), the header is the 16-byte LOCAL form: command LOCAL, family UNSPEC, length 0,
/// which tells the service to use the connection's own endpoints. An IPv6 scope id has no place
/// in the header and is dropped. Writes 16, 28 (IPv4) or 52 (IPv6) bytes; the rest of `out` is
/// left as it was. Pure: no allocation, no system call, any thread.
[[nodiscard]] std::size_t encode_proxy_v2(const SocketAddress& source,
                                          const SocketAddress& destination, bool datagram,
                                          std::span<std::byte, kMaxProxyV2Header> out) noexcept;

}  // namespace ringtunnel::net
