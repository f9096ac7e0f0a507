// SPDX-License-Identifier: MIT
// ClientHandshake: ClientHello out, ServerHello checked and verified, ClientAuth, AuthResult.
#include "tunnel/client_handshake.hpp"

#include <algorithm>
#include <cerrno>
#include <utility>

#include "crypto/random.hpp"
#include "crypto/secure_buffer.hpp"
#include "protocol/handshake.hpp"
#include "protocol/problem.hpp"
#include "protocol/reason.hpp"
#include "protocol/wire.hpp"
#include "tunnel/client_auth.hpp"

namespace ringtunnel::tunnel {
namespace {

using protocol::Reason;

std::error_code reason(Reason r) noexcept {
  return protocol::make_error_code(r);
}

}  // namespace

ClientHandshake::ClientHandshake(const crypto::Ed25519PrivateKey& identity,
                                 std::optional<std::string> token, std::string client_name,
                                 std::vector<crypto::AeadAlgorithm> aeads)
    : identity_(&identity), client_name_(std::move(client_name)), offered_(std::move(aeads)) {
  if (token && !token->empty()) {
    token_key_.emplace(token_key(*token));
    crypto::secure_wipe(std::as_writable_bytes(std::span(token->data(), token->size())));
  }
}

std::error_code ClientHandshake::fail(std::error_code error) noexcept {
  state_ = State::failed;
  ephemeral_.wipe();
  prk_.wipe();
  token_key_.reset();
  hs_c2s_.reset();
  hs_s2c_.reset();
  return error;
}

Result<std::vector<std::byte>> ClientHandshake::client_hello() {
  if (state_ != State::start) return handshake_out_of_order();
  // Checked now rather than in ClientAuth, so a bad name fails before anything is sent.
  if (auto named = check_client_name(client_name_); !named) return fail(named.error());
  protocol::ClientHello hello;
  for (crypto::AeadAlgorithm algorithm : offered_) {
    if (!crypto::aead_supported(algorithm)) return fail(errno_code(EOPNOTSUPP));
    hello.aeads.push_back(to_wire(algorithm));
  }
  ephemeral_ = crypto::x25519_generate();
  crypto::random_bytes(hello.client_random);
  hello.client_ephemeral = ephemeral_.public_key;
  auto body = protocol::encode(hello);
  if (!body) return fail(body.error());
  auto framed = protocol::frame_handshake_message(*body);
  if (!framed) return fail(framed.error());
  client_hello_body_ = std::move(body).value();
  state_ = State::hello_sent;
  return framed;
}

// Negotiation and authenticity, before any key is derived from the hello.
Result<void> ClientHandshake::check_server_hello(const protocol::ServerHello& hello,
                                                 std::span<const std::byte> body) const {
  if (protocol::is_refusal(hello)) return reason(protocol::refusal_reason(hello));
  if (hello.version != protocol::kProtocolVersion) return reason(Reason::version_unsupported);
  const crypto::AeadAlgorithm chosen = from_wire(hello.aead);
  if (std::find(offered_.begin(), offered_.end(), chosen) == offered_.end()) {
    return reason(Reason::aead_unsupported);
  }
  const TranscriptHash digest =
      transcript_hash(client_hello_body_, protocol::server_hello_signed_part(body));
  const auto input = protocol::signature_input(protocol::kServerSignatureLabel, digest);
  if (!crypto::ed25519_verify(hello.server_identity, input, hello.signature)) {
    return reason(Reason::bad_signature);
  }
  return {};
}

Result<void> ClientHandshake::derive_handshake_keys(const protocol::ServerHello& hello,
                                                    std::span<const std::byte> body) {
  auto shared = crypto::x25519_shared(ephemeral_.private_key, hello.server_ephemeral);
  ephemeral_.wipe();
  if (!shared) {
    return shared.error() == crypto::x25519_small_order_error()
               ? reason(Reason::handshake_malformed)
               : shared.error();
  }
  th1_ = transcript_hash(client_hello_body_, body);
  prk_ = handshake_prk(th1_, *shared);
  crypto::secure_wipe(*shared);
  aead_ = from_wire(hello.aead);
  auto keys = handshake_aead_keys(aead_, prk_.span());
  if (!keys) return keys.error();
  hs_c2s_.emplace(std::move(keys->c2s));
  hs_s2c_.emplace(std::move(keys->s2c));
  return {};
}

Result<ServerIdentity> ClientHandshake::on_server_hello(std::span<const std::byte> body) {
  if (state_ != State::hello_sent) return handshake_out_of_order();
  auto hello = protocol::decode_server_hello(body);
  if (!hello) return fail(hello.error());
  if (auto checked = check_server_hello(*hello, body); !checked) return fail(checked.error());
  if (auto derived = derive_handshake_keys(*hello, body); !derived) {
    return fail(derived.error());
  }
  client_hello_body_.clear();
  server_ = make_identity(hello->server_identity);
  state_ = State::server_verified;
  return server_;
}

Result<std::vector<std::byte>> ClientHandshake::client_auth_record() {
  if (state_ != State::server_verified) return handshake_out_of_order();
  auto plaintext =
      make_client_auth(*identity_, token_key_, client_name_, protocol::kClientSignatureLabel, th1_);
  token_key_.reset();
  if (!plaintext) return fail(plaintext.error());
  auto record = seal_handshake_record(*hs_c2s_, *plaintext);
  th2_ = transcript_hash(th1_, *plaintext);
  crypto::secure_wipe(*plaintext);  // it holds the token MAC
  if (!record) return fail(record.error());
  hs_c2s_.reset();
  state_ = State::auth_sent;
  return record;
}

Result<Established> ClientHandshake::on_auth_result(std::span<std::byte> record) {
  if (state_ != State::auth_sent) return handshake_out_of_order();
  auto opened = open_record(*hs_s2c_, 0, record);
  if (!opened) return fail(opened.error());
  auto result = protocol::decode_auth_result(record.subspan(protocol::kRecordHeaderSize, *opened));
  if (!result) return fail(result.error());
  if (result->status != Reason::ok) {
    server_message_ = result->message;
    return fail(reason(result->status));
  }
  TrafficSecrets secrets = traffic_secrets(prk_.span(), th2_);
  prk_.wipe();
  hs_s2c_.reset();
  state_ = State::established;
  Established established;
  established.aead = aead_;
  established.c2s_secret = std::move(secrets.c2s);
  established.s2c_secret = std::move(secrets.s2c);
  established.params = params_of(std::move(result).value());
  established.peer = server_;
  return established;
}

}  // namespace ringtunnel::tunnel
