// SPDX-License-Identifier: MIT
// Shared handshake helpers: record-0 sealing, AEAD id mapping, session_records.
#include "tunnel/handshake.hpp"

#include <cerrno>
#include <utility>

#include "crypto/fingerprint.hpp"
#include "protocol/problem.hpp"
#include "protocol/wire.hpp"

namespace ringtunnel::tunnel {

std::vector<crypto::AeadAlgorithm> default_aeads() {
  return {crypto::AeadAlgorithm::aes_256_gcm, crypto::AeadAlgorithm::chacha20_poly1305};
}

Result<SessionRecords> session_records(const Established& established, protocol::Role self,
                                       Clock::time_point now) {
  const bool client = self == protocol::Role::client;
  const Secret& send = client ? established.c2s_secret : established.s2c_secret;
  const Secret& receive = client ? established.s2c_secret : established.c2s_secret;
  auto sealer = RecordSealer::create(established.aead, send.span(), now);
  if (!sealer) return sealer.error();
  auto opener = RecordOpener::create(established.aead, receive.span());
  if (!opener) return opener.error();
  return SessionRecords{std::move(sealer).value(), std::move(opener).value()};
}

std::error_code handshake_out_of_order() noexcept {
  return errno_code(EINVAL);
}

protocol::Aead to_wire(crypto::AeadAlgorithm algorithm) noexcept {
  return static_cast<protocol::Aead>(static_cast<std::uint8_t>(algorithm));
}

crypto::AeadAlgorithm from_wire(protocol::Aead aead) noexcept {
  return static_cast<crypto::AeadAlgorithm>(static_cast<std::uint8_t>(aead));
}

protocol::AuthResult accepting_result(const AuthParams& params) {
  protocol::AuthResult result;
  result.status = protocol::Reason::ok;
  result.message = params.message;
  result.max_frame = params.max_frame;
  result.initial_window = params.initial_window;
  result.max_streams = params.max_streams;
  result.heartbeat_ms = params.heartbeat_ms;
  return result;
}

AuthParams params_of(protocol::AuthResult result) {
  return AuthParams{result.max_frame, result.initial_window, result.max_streams,
                    result.heartbeat_ms, std::move(result.message)};
}

protocol::AuthResult refusing_result(protocol::Reason why, std::string message) {
  if (message.size() > protocol::kMaxStr8) message.resize(protocol::kMaxStr8);
  while (!message.empty() && !protocol::is_valid_utf8(message)) message.pop_back();
  protocol::AuthResult result;
  result.status = why;
  result.message = std::move(message);
  return result;
}

Result<void> check_client_name(const std::string& name) {
  if (name.size() > protocol::kMaxClientName) {
    return protocol::make_error(protocol::Problem::too_long, protocol::Field::client_auth_name,
                                name.size());
  }
  if (!protocol::is_valid_utf8(name)) {
    return protocol::make_error(protocol::Problem::not_utf8, protocol::Field::client_auth_name);
  }
  return {};
}

PeerIdentity make_identity(const crypto::Ed25519PublicKey& key) {
  return PeerIdentity{key, crypto::fingerprint(key)};
}

Result<HandshakeAeadKeys> handshake_aead_keys(crypto::AeadAlgorithm algorithm, SecretView prk) {
  const HandshakeKeys keys = handshake_keys(prk);
  auto c2s = crypto::AeadKey::create(algorithm, keys.c2s.span());
  if (!c2s) return c2s.error();
  auto s2c = crypto::AeadKey::create(algorithm, keys.s2c.span());
  if (!s2c) return s2c.error();
  return HandshakeAeadKeys{std::move(c2s).value(), std::move(s2c).value()};
}

Result<std::vector<std::byte>> seal_handshake_record(crypto::AeadKey& key,
                                                     std::span<const std::byte> plaintext) {
  std::vector<std::byte> record(RecordSealer::sealed_size(plaintext.size()));
  auto sealed = seal_record(key, 0, plaintext, record);
  if (!sealed) return sealed.error();
  record.resize(*sealed);
  return record;
}

}  // namespace ringtunnel::tunnel
