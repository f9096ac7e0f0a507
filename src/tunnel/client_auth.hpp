// SPDX-License-Identifier: MIT
// ClientAuth made and checked for a given binding: th1 (native) or the TLS exporter value (TLS).
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/ed25519.hpp"
#include "runtime/result.hpp"
#include "tunnel/handshake.hpp"
#include "tunnel/key_schedule.hpp"

namespace ringtunnel::tunnel {

/// 32 bytes both ends derived from this one connection: what the client's signature and token
/// MAC are bound to, so neither can be replayed on another connection.
using AuthBinding = std::span<const std::byte, kSecretSize>;

/// The encoded ClientAuth body (protocol.md §1): `identity`'s public key, its signature over
/// signature_input(`label`, `binding`), the token MAC over `binding` when `token_key` is set,
/// and `client_name` (checked by the caller). Holds the token MAC: wipe it after use.
[[nodiscard]] Result<std::vector<std::byte>> make_client_auth(
    const crypto::Ed25519PrivateKey& identity, const std::optional<Secret>& token_key,
    const std::string& client_name, std::string_view label, AuthBinding binding);

/// Decodes a ClientAuth `body`, verifies its signature over signature_input(`label`,
/// `binding`) and compares its token MAC with `expected_token`'s in constant time.
/// Errors: handshake_malformed when it does not decode; bad_signature.
[[nodiscard]] Result<ClientClaim> check_client_auth(std::span<const std::byte> body,
                                                    std::string_view label, AuthBinding binding,
                                                    std::optional<std::string_view> expected_token);

}  // namespace ringtunnel::tunnel
