// SPDX-License-Identifier: MIT
// Handshake message codecs, plaintext message framing and signature inputs.
#include "protocol/handshake.hpp"

#include <algorithm>
#include <cstring>

#include "protocol/field_reader.hpp"
#include "protocol/problem.hpp"
#include "protocol/wire.hpp"
#include "runtime/assert.hpp"

namespace ringtunnel::protocol {
namespace {

constexpr Bytes32 kZero32{};
constexpr Bytes64 kZero64{};

std::error_code check(const ClientHello& h) noexcept {
  if (h.min_version == 0) return make_error(Problem::bad_value, Field::client_hello_min_version, 0);
  if (h.min_version > h.max_version) {
    return make_error(Problem::version_range, uint32_t{h.min_version} << 8 | h.max_version);
  }
  if (h.aeads.size() < kMinAeadCount || h.aeads.size() > kMaxAeadCount) {
    return make_error(Problem::bad_value, Field::client_hello_aead_count, h.aeads.size());
  }
  return {};
}

std::error_code check(const ServerHello& h) noexcept {
  if (!is_refusal(h)) {
    if (h.aead == Aead{0}) return make_error(Problem::bad_value, Field::server_hello_aead, 0);
    return {};
  }
  // §1: a refusal carries its reason in `aead` and zeros everywhere else.
  if (h.aead == Aead{0}) return make_error(Problem::refusal_without_reason);
  if (h.server_random != kZero32) return make_error(Problem::not_zero, Field::server_hello_random);
  if (h.server_ephemeral != kZero32) {
    return make_error(Problem::not_zero, Field::server_hello_ephemeral);
  }
  if (h.server_identity != kZero32) {
    return make_error(Problem::not_zero, Field::server_hello_identity);
  }
  if (h.signature != kZero64) return make_error(Problem::not_zero, Field::server_hello_signature);
  return {};
}

std::error_code check(const ClientAuth& a) noexcept {
  return check_text(a.client_name, Field::client_auth_name, kMaxClientName);
}

std::error_code check(const AuthResult& r) noexcept {
  if (auto ec = check_text(r.message, Field::auth_result_message)) return ec;
  if (r.status != Reason::ok) return {};
  if (r.max_frame == 0 || r.max_frame > kMaxFramePayload) {
    return make_error(Problem::bad_value, Field::auth_result_max_frame, r.max_frame);
  }
  if (r.initial_window > kMaxWindow) {
    return make_error(Problem::over_window, Field::auth_result_initial_window);
  }
  if (r.heartbeat_ms == 0) {
    return make_error(Problem::bad_value, Field::auth_result_heartbeat_ms, 0);
  }
  return {};
}

}  // namespace

// ---- ClientHello --------------------------------------------------------------------------

Result<std::vector<std::byte>> encode(const ClientHello& hello) {
  if (auto ec = check(hello)) return ec;
  std::vector<std::byte> body;
  body.reserve(4 + 2 + 32 + 32 + 1 + hello.aeads.size());
  ByteWriter w(body);
  w.bytes(kMagic);
  w.u8(hello.min_version);
  w.u8(hello.max_version);
  w.bytes(hello.client_random);
  w.bytes(hello.client_ephemeral);
  w.u8(static_cast<uint8_t>(hello.aeads.size()));
  for (Aead aead : hello.aeads) w.u8(static_cast<uint8_t>(aead));
  return body;
}

Result<ClientHello> decode_client_hello(std::span<const std::byte> body) {
  FieldReader in(body);
  ClientHello h;
  std::array<std::byte, 4> magic{};
  uint8_t count = 0;
  in.read(magic, Field::client_hello_magic);
  in.read(h.min_version, Field::client_hello_min_version);
  in.read(h.max_version, Field::client_hello_max_version);
  in.read(h.client_random, Field::client_hello_random);
  in.read(h.client_ephemeral, Field::client_hello_ephemeral);
  in.read(count, Field::client_hello_aead_count);
  // Bound the count before it sizes anything.
  if (!in.error() && (count < kMinAeadCount || count > kMaxAeadCount)) {
    return make_error(Problem::bad_value, Field::client_hello_aead_count, count);
  }
  std::array<uint8_t, kMaxAeadCount> aeads{};
  for (std::size_t i = 0; i < count; ++i) in.read(aeads[i], Field::client_hello_aeads);
  if (auto ec = in.finish(Field::client_hello)) return ec;
  if (magic != kMagic) return make_error(Problem::bad_magic, Field::client_hello_magic);
  for (std::size_t i = 0; i < count; ++i) h.aeads.push_back(static_cast<Aead>(aeads[i]));
  if (auto ec = check(h)) return ec;
  return h;
}

// ---- ServerHello --------------------------------------------------------------------------

Result<std::vector<std::byte>> encode(const ServerHello& hello) {
  if (auto ec = check(hello)) return ec;
  std::vector<std::byte> body;
  body.reserve(kServerHelloSize);
  ByteWriter w(body);
  w.bytes(kMagic);
  w.u8(hello.version);
  w.u8(static_cast<uint8_t>(hello.aead));
  w.bytes(hello.server_random);
  w.bytes(hello.server_ephemeral);
  w.bytes(hello.server_identity);
  w.bytes(hello.signature);
  return body;
}

Result<ServerHello> decode_server_hello(std::span<const std::byte> body) {
  FieldReader in(body);
  ServerHello h;
  std::array<std::byte, 4> magic{};
  uint8_t aead = 0;
  in.read(magic, Field::server_hello_magic);
  in.read(h.version, Field::server_hello_version);
  in.read(aead, Field::server_hello_aead);
  in.read(h.server_random, Field::server_hello_random);
  in.read(h.server_ephemeral, Field::server_hello_ephemeral);
  in.read(h.server_identity, Field::server_hello_identity);
  in.read(h.signature, Field::server_hello_signature);
  if (auto ec = in.finish(Field::server_hello)) return ec;
  if (magic != kMagic) return make_error(Problem::bad_magic, Field::server_hello_magic);
  h.aead = static_cast<Aead>(aead);
  if (auto ec = check(h)) return ec;
  return h;
}

ServerHello make_refusal(Reason reason) noexcept {
  RT_DCHECK(reason != Reason::ok);
  const auto code = static_cast<uint16_t>(reason);
  ServerHello h{};
  h.version = 0;
  h.aead = static_cast<Aead>(code <= 0xff ? code : static_cast<uint16_t>(Reason::internal_error));
  return h;
}

// ---- ClientAuth ---------------------------------------------------------------------------

Result<std::vector<std::byte>> encode(const ClientAuth& auth) {
  if (auto ec = check(auth)) return ec;
  std::vector<std::byte> body;
  body.reserve(32 + 64 + 1 + 32 + 1 + auth.client_name.size());
  ByteWriter w(body);
  w.bytes(auth.client_identity);
  w.bytes(auth.signature);
  w.u8(auth.token_mac ? 1 : 0);
  if (auth.token_mac) w.bytes(*auth.token_mac);
  w.str8(auth.client_name);
  return body;
}

Result<ClientAuth> decode_client_auth(std::span<const std::byte> body) {
  FieldReader in(body);
  ClientAuth a;
  uint8_t token_present = 0;
  std::string_view name;
  in.read(a.client_identity, Field::client_auth_identity);
  in.read(a.signature, Field::client_auth_signature);
  in.read(token_present, Field::client_auth_token_mac_present);
  if (!in.error() && token_present > 1) {
    return make_error(Problem::bad_value, Field::client_auth_token_mac_present, token_present);
  }
  if (token_present == 1) {
    Bytes32 mac{};
    in.read(mac, Field::client_auth_token_mac);
    a.token_mac = mac;
  }
  in.read(name, Field::client_auth_name);
  if (auto ec = in.finish(Field::client_auth)) return ec;
  if (name.size() > kMaxClientName) {
    return make_error(Problem::too_long, Field::client_auth_name, name.size());
  }
  a.client_name.assign(name);
  return a;
}

// ---- AuthResult ---------------------------------------------------------------------------

Result<std::vector<std::byte>> encode(const AuthResult& result) {
  if (auto ec = check(result)) return ec;
  std::vector<std::byte> body;
  body.reserve(2 + 1 + result.message.size() + 16);
  ByteWriter w(body);
  w.u16(static_cast<uint16_t>(result.status));
  w.str8(result.message);
  w.u32(result.max_frame);
  w.u32(result.initial_window);
  w.u32(result.max_streams);
  w.u32(result.heartbeat_ms);
  return body;
}

Result<AuthResult> decode_auth_result(std::span<const std::byte> body) {
  FieldReader in(body);
  AuthResult r;
  std::string_view message;
  in.read(r.status, Field::auth_result_status);
  in.read(message, Field::auth_result_message);
  in.read(r.max_frame, Field::auth_result_max_frame);
  in.read(r.initial_window, Field::auth_result_initial_window);
  in.read(r.max_streams, Field::auth_result_max_streams);
  in.read(r.heartbeat_ms, Field::auth_result_heartbeat_ms);
  if (auto ec = in.finish(Field::auth_result)) return ec;
  r.message.assign(message);
  if (auto ec = check(r)) return ec;
  return r;
}

// ---- framing and signature inputs ---------------------------------------------------------

Result<std::size_t> handshake_message_length(
    std::span<const std::byte, kHandshakeLengthSize> prefix) noexcept {
  const std::size_t length =
      static_cast<std::size_t>(prefix[0]) << 8 | static_cast<std::size_t>(prefix[1]);
  if (length == 0) return make_error(Problem::handshake_length_zero);
  if (length > kMaxHandshakeMessage) return make_error(Problem::handshake_too_long, length);
  return length;
}

Result<std::vector<std::byte>> frame_handshake_message(std::span<const std::byte> body) {
  if (body.empty()) return make_error(Problem::handshake_length_zero);
  if (body.size() > kMaxHandshakeMessage) {
    return make_error(Problem::handshake_too_long, body.size());
  }
  std::vector<std::byte> out;
  out.reserve(kHandshakeLengthSize + body.size());
  ByteWriter w(out);
  w.u16(static_cast<uint16_t>(body.size()));
  w.bytes(body);
  return out;
}

std::span<const std::byte> server_hello_signed_part(
    std::span<const std::byte> encoded_server_hello) noexcept {
  if (encoded_server_hello.size() != kServerHelloSize) return {};
  return encoded_server_hello.first(kServerHelloSignedSize);
}

std::array<std::byte, kSignatureInputSize> signature_input(
    std::string_view label, std::span<const std::byte, 32> digest) noexcept {
  RT_ASSERT(label.size() == kSignatureInputSize - 1 - 32);
  std::array<std::byte, kSignatureInputSize> out{};
  std::memcpy(out.data(), label.data(), label.size());
  out[label.size()] = std::byte{0};
  std::memcpy(out.data() + label.size() + 1, digest.data(), digest.size());
  return out;
}

}  // namespace ringtunnel::protocol
