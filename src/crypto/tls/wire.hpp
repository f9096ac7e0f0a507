// SPDX-License-Identifier: MIT
// Wire: the caller's spans as a TLS library's transport, behind each backend's I/O hooks.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace ringtunnel::crypto::tls::detail {

/// Output the library produces while no write() is under way (the handshake's flights, a
/// KeyUpdate reply, an alert) waits in Wire::queued for the next write(). A peer that makes us
/// queue more than this (a KeyUpdate flood while we send nothing) is cut off.
inline constexpr std::size_t kMaxQueuedOutput = 64 * 1024;

/// The library's view of the caller's buffers for the call in progress (OpenSSL's BIO,
/// wolfSSL's I/O callbacks): it never blocks and never refuses a write.
struct Wire {
  std::span<const std::byte> input;  ///< the peer's bytes offered to the library
  std::size_t taken = 0;             ///< of `input`, what the library read
  std::span<std::byte> out;          ///< where the library's output goes while it has room
  std::size_t written = 0;           ///< of `out`, what the library wrote
  std::vector<std::byte> queued;     ///< output that did not fit, for the next write()
  bool overflow = false;             ///< queued would have passed kMaxQueuedOutput
};

/// Takes the library's output: into `out` while it has room (and nothing is queued before
/// it), the rest into `queued`. False, with `overflow` set, past kMaxQueuedOutput; false when
/// the queue cannot grow. Never throws (it runs inside the library's C frames).
[[nodiscard]] bool wire_put(Wire& wire, std::span<const std::byte> bytes) noexcept;

/// Gives the library up to into.size() of the input not yet taken; how many (0: none left).
[[nodiscard]] std::size_t wire_take(Wire& wire, std::span<std::byte> into) noexcept;

/// The concatenation of `pieces` in `staging` (resized to it), for a library that takes one
/// buffer per write: a write per piece would put each 10-byte frame header in a record of its
/// own. Allocates only when a write is larger than any before.
void gather(std::span<const std::span<const std::byte>> pieces, std::vector<std::byte>& staging);

/// True for an IPv4 or IPv6 literal: SNI carries DNS names only, and a name is checked
/// against the IP SANs instead.
[[nodiscard]] bool is_ip_literal(const std::string& name);

}  // namespace ringtunnel::crypto::tls::detail
