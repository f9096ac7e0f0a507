// SPDX-License-Identifier: MIT
// peek_sni: the server name a TLS client asks for, read from its first bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ringtunnel::http {

/// The most bytes peek_sni reads: a TLS record header plus the largest record (2^14).
inline constexpr std::size_t kMaxClientHelloPeek = 5 + 16384;

enum class SniStatus : std::uint8_t { need_more, found, no_sni, not_tls, malformed };

struct SniPeek {
  SniStatus status = SniStatus::need_more;
  std::string name;     ///< found: the host_name, lower-case, one trailing dot dropped
  std::string message;  ///< not_tls, malformed, no_sni: what was wrong (safe to log)
};

/// Reads the server_name extension's host_name (RFC 6066 §3) from the ClientHello at the start
/// of `input` without consuming anything: the ingress passes the same bytes on untouched.
/// The ClientHello must be in the first TLS record (handshake, version 3.x, 1-16384 bytes),
/// as every TLS 1.2/1.3 client sends it; every length is checked against what encloses it.
/// need_more only while a prefix of a valid record could still complete. Pure; any thread.
SniPeek peek_sni(std::span<const std::byte> input);

}  // namespace ringtunnel::http
