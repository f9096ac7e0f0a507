// SPDX-License-Identifier: MIT
// ClientAuth: sign and MAC over a binding; decode, verify and compare in constant time.
#include "tunnel/client_auth.hpp"

#include <algorithm>

#include "crypto/constant_time.hpp"
#include "crypto/secure_buffer.hpp"
#include "protocol/handshake.hpp"
#include "protocol/reason.hpp"

namespace ringtunnel::tunnel {
namespace {

bool token_matches(const std::optional<protocol::Bytes32>& mac,
                   std::optional<std::string_view> expected, AuthBinding binding) noexcept {
  if (!mac || !expected || expected->empty()) return false;
  const Secret key = token_key(*expected);
  const Secret want = token_mac(key.span(), binding);
  return crypto::constant_time_equal(*mac, want.span());
}

}  // namespace

Result<std::vector<std::byte>> make_client_auth(const crypto::Ed25519PrivateKey& identity,
                                                const std::optional<Secret>& token_key,
                                                const std::string& client_name,
                                                std::string_view label, AuthBinding binding) {
  protocol::ClientAuth auth;
  auth.client_identity = identity.public_key();
  auth.signature = identity.sign(protocol::signature_input(label, binding));
  if (token_key) {
    Secret mac = token_mac(token_key->span(), binding);
    auth.token_mac.emplace();
    std::copy(mac.span().begin(), mac.span().end(), auth.token_mac->begin());
  }
  auth.client_name = client_name;
  auto body = protocol::encode(auth);
  if (auth.token_mac) crypto::secure_wipe(*auth.token_mac);
  return body;
}

Result<ClientClaim> check_client_auth(std::span<const std::byte> body, std::string_view label,
                                      AuthBinding binding,
                                      std::optional<std::string_view> expected_token) {
  auto auth = protocol::decode_client_auth(body);
  if (!auth) return auth.error();
  if (!crypto::ed25519_verify(auth->client_identity, protocol::signature_input(label, binding),
                              auth->signature)) {
    return protocol::make_error_code(protocol::Reason::bad_signature);
  }
  ClientClaim claim;
  claim.client_identity = auth->client_identity;
  claim.client_fingerprint = make_identity(auth->client_identity).fingerprint;
  claim.token_valid = token_matches(auth->token_mac, expected_token, binding);
  claim.token_presented = auth->token_mac.has_value();
  claim.client_name = std::move(auth->client_name);
  return claim;
}

}  // namespace ringtunnel::tunnel
