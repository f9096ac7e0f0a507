// SPDX-License-Identifier: MIT
// Key schedule over crypto::sha256/hkdf; every intermediate copy of a secret is wiped.
#include "tunnel/key_schedule.hpp"

#include <array>
#include <cstring>

#include "protocol/handshake.hpp"
#include "protocol/wire.hpp"
#include "runtime/assert.hpp"

namespace ringtunnel::tunnel {
namespace {

// Moves a digest that holds a secret into a Secret and wipes the digest.
Secret take_secret(crypto::Sha256Digest& digest) noexcept {
  Secret out{std::span<const std::byte, kSecretSize>(digest)};
  crypto::secure_wipe(digest);
  return out;
}

Secret expand(SecretView prk, std::string_view label) noexcept {
  Secret out;
  crypto::hkdf_expand(prk, protocol::as_bytes(label), out.span());
  return out;
}

// HKDF-Expand(prk, label || th2, 32): the info is at most 10 + 32 bytes.
Secret expand_with_hash(SecretView prk, std::string_view label,
                        std::span<const std::byte, kSecretSize> hash) noexcept {
  std::array<std::byte, 16 + kSecretSize> info{};
  RT_ASSERT(label.size() <= 16);
  std::memcpy(info.data(), label.data(), label.size());
  std::memcpy(info.data() + label.size(), hash.data(), hash.size());
  Secret out;
  crypto::hkdf_expand(prk, std::span(info).first(label.size() + hash.size()), out.span());
  return out;
}

}  // namespace

TranscriptHash transcript_hash(std::span<const std::byte> first,
                               std::span<const std::byte> second) noexcept {
  crypto::Sha256 hash;
  hash.update(first);
  hash.update(second);
  return hash.finish();
}

Secret handshake_prk(std::span<const std::byte, kSecretSize> th1, SecretView shared) noexcept {
  crypto::Sha256Digest prk = crypto::hkdf_extract(th1, shared);
  return take_secret(prk);
}

HandshakeKeys handshake_keys(SecretView prk) noexcept {
  return {expand(prk, kLabelHandshakeC2s), expand(prk, kLabelHandshakeS2c)};
}

TrafficSecrets traffic_secrets(SecretView prk,
                               std::span<const std::byte, kSecretSize> th2) noexcept {
  return {expand_with_hash(prk, kLabelTrafficC2s, th2),
          expand_with_hash(prk, kLabelTrafficS2c, th2)};
}

Secret record_key(SecretView secret) noexcept {
  return expand(secret, kLabelRecordKey);
}

Secret next_secret(SecretView secret) noexcept {
  return expand(secret, kLabelKeyUpdate);
}

Secret token_key(std::string_view token) noexcept {
  crypto::Sha256 hash;
  hash.update(protocol::as_bytes(protocol::kTokenLabel));
  hash.update(protocol::as_bytes(token));
  crypto::Sha256Digest key = hash.finish();
  return take_secret(key);
}

Secret token_mac(SecretView token_key, std::span<const std::byte, kSecretSize> th1) noexcept {
  crypto::Sha256Digest mac = crypto::hmac_sha256(token_key, th1);
  return take_secret(mac);
}

}  // namespace ringtunnel::tunnel
