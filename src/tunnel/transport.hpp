// SPDX-License-Identifier: MIT
// Transport: which secure channel a session runs over.
#pragma once

#include <optional>
#include <string_view>

namespace ringtunnel::tunnel {

/// native: ringtunnel's own handshake and AEAD records (protocol.md §1-§2); tls: TLS 1.3 with
/// the client authenticated inside it (§6). Both carry the same frames.
enum class Transport { native, tls };

[[nodiscard]] constexpr std::string_view to_string(Transport transport) noexcept {
  return transport == Transport::tls ? "tls" : "native";
}

[[nodiscard]] constexpr std::optional<Transport> parse_transport(std::string_view text) noexcept {
  if (text == "native") return Transport::native;
  if (text == "tls") return Transport::tls;
  return std::nullopt;
}

}  // namespace ringtunnel::tunnel
