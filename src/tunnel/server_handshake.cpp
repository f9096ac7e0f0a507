// SPDX-License-Identifier: MIT
// ServerHandshake: negotiation and the signed ServerHello, ClientAuth checks, AuthResult.
#include "tunnel/server_handshake.hpp"

#include <algorithm>
#include <cstring>

#include "crypto/constant_time.hpp"
#include "crypto/random.hpp"
#include "crypto/secure_buffer.hpp"
#include "crypto/x25519.hpp"
#include "protocol/handshake.hpp"
#include "protocol/wire.hpp"
#include "tunnel/client_auth.hpp"

namespace ringtunnel::tunnel {
namespace {

using protocol::Reason;

std::error_code reason(Reason r) noexcept {
  return protocol::make_error_code(r);
}

}  // namespace

ServerHandshake::ServerHandshake(const crypto::Ed25519PrivateKey& identity,
                                 std::vector<crypto::AeadAlgorithm> supported)
    : identity_(&identity), supported_(std::move(supported)) {}

void ServerHandshake::wipe_secrets() noexcept {
  prk_.wipe();
  hs_c2s_.reset();
}

std::error_code ServerHandshake::fail(std::error_code error) noexcept {
  state_ = State::failed;
  wipe_secrets();
  return error;
}

std::error_code ServerHandshake::refuse_hello(std::error_code error) {
  const auto refusal = protocol::encode(protocol::make_refusal(protocol::reason_of(error)));
  if (refusal) {
    auto framed = protocol::frame_handshake_message(*refusal);
    if (framed) refusal_hello_ = std::move(framed).value();
  }
  return fail(error);
}

Result<crypto::AeadAlgorithm> ServerHandshake::negotiate(const protocol::ClientHello& hello) const {
  if (hello.min_version > protocol::kProtocolVersion ||
      hello.max_version < protocol::kProtocolVersion) {
    return reason(Reason::version_unsupported);
  }
  for (protocol::Aead offered : hello.aeads) {
    const crypto::AeadAlgorithm algorithm = from_wire(offered);
    if (std::find(supported_.begin(), supported_.end(), algorithm) != supported_.end() &&
        crypto::aead_supported(algorithm)) {
      return algorithm;
    }
  }
  return reason(Reason::aead_unsupported);
}

Result<std::vector<std::byte>> ServerHandshake::signed_server_hello(
    std::span<const std::byte> client_hello, crypto::AeadAlgorithm aead,
    const crypto::X25519KeyPair& ephemeral) const {
  protocol::ServerHello hello;
  hello.version = protocol::kProtocolVersion;
  hello.aead = to_wire(aead);
  crypto::random_bytes(hello.server_random);
  hello.server_ephemeral = ephemeral.public_key;
  hello.server_identity = identity_->public_key();
  auto body = protocol::encode(hello);  // signature still zero: it covers the other fields
  if (!body) return body.error();
  const TranscriptHash digest =
      transcript_hash(client_hello, protocol::server_hello_signed_part(*body));
  const crypto::Ed25519Signature signature =
      identity_->sign(protocol::signature_input(protocol::kServerSignatureLabel, digest));
  std::memcpy(body->data() + protocol::kServerHelloSignedSize, signature.data(), signature.size());
  return body;
}

Result<void> ServerHandshake::derive_handshake_keys(
    std::span<const std::byte, kSecretSize> shared) {
  prk_ = handshake_prk(th1_, shared);
  auto keys = handshake_aead_keys(aead_, prk_.span());
  if (!keys) return keys.error();
  hs_c2s_.emplace(std::move(keys->c2s));
  hs_s2c_.emplace(std::move(keys->s2c));
  return {};
}

Result<std::vector<std::byte>> ServerHandshake::on_client_hello(std::span<const std::byte> body) {
  if (state_ != State::start) return handshake_out_of_order();
  auto hello = protocol::decode_client_hello(body);
  if (!hello) return refuse_hello(hello.error());
  auto aead = negotiate(*hello);
  if (!aead) return refuse_hello(aead.error());
  crypto::X25519KeyPair ephemeral = crypto::x25519_generate();
  auto shared = crypto::x25519_shared(ephemeral.private_key, hello->client_ephemeral);
  if (!shared) {
    return shared.error() == crypto::x25519_small_order_error()
               ? refuse_hello(reason(Reason::handshake_malformed))
               : fail(shared.error());
  }
  aead_ = *aead;
  auto reply = signed_server_hello(body, aead_, ephemeral);
  ephemeral.wipe();
  if (!reply) {
    crypto::secure_wipe(*shared);
    return fail(reply.error());
  }
  th1_ = transcript_hash(body, *reply);
  auto derived = derive_handshake_keys(*shared);
  crypto::secure_wipe(*shared);
  if (!derived) return fail(derived.error());
  auto framed = protocol::frame_handshake_message(*reply);
  if (!framed) return fail(framed.error());
  state_ = State::hello_sent;
  return framed;
}

Result<ClientClaim> ServerHandshake::on_client_auth(
    std::span<std::byte> record, std::optional<std::string_view> expected_token) {
  if (state_ != State::hello_sent) return handshake_out_of_order();
  auto opened = open_record(*hs_c2s_, 0, record);
  if (!opened) return fail(opened.error());
  const auto plaintext = record.subspan(protocol::kRecordHeaderSize, *opened);
  auto claim = check_client_auth(plaintext, protocol::kClientSignatureLabel, th1_, expected_token);
  if (!claim) return fail(claim.error());
  th2_ = transcript_hash(th1_, plaintext);
  client_ = PeerIdentity{claim->client_identity, claim->client_fingerprint};
  hs_c2s_.reset();
  state_ = State::claimed;
  return claim;
}

Result<std::pair<std::vector<std::byte>, Established>> ServerHandshake::accept(
    const AuthParams& params) {
  if (state_ != State::claimed) return handshake_out_of_order();
  auto plaintext = protocol::encode(accepting_result(params));
  if (!plaintext) return fail(plaintext.error());
  auto record = seal_handshake_record(*hs_s2c_, *plaintext);
  if (!record) return fail(record.error());
  TrafficSecrets secrets = traffic_secrets(prk_.span(), th2_);
  prk_.wipe();
  hs_s2c_.reset();
  state_ = State::established;
  Established established;
  established.aead = aead_;
  established.c2s_secret = std::move(secrets.c2s);
  established.s2c_secret = std::move(secrets.s2c);
  established.params = params;
  established.peer = client_;
  return std::pair{std::move(record).value(), std::move(established)};
}

Result<std::vector<std::byte>> ServerHandshake::refuse(Reason why, std::string message) {
  const bool can_refuse =
      hs_s2c_.has_value() && state_ != State::established && state_ != State::refused;
  if (!can_refuse || why == Reason::ok) return handshake_out_of_order();
  auto plaintext = protocol::encode(refusing_result(why, std::move(message)));
  if (!plaintext) return fail(plaintext.error());
  auto record = seal_handshake_record(*hs_s2c_, *plaintext);
  wipe_secrets();
  hs_s2c_.reset();
  state_ = State::refused;
  return record;
}

}  // namespace ringtunnel::tunnel
