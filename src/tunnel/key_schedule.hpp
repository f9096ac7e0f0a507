// SPDX-License-Identifier: MIT
// The key schedule of docs/protocol.md §1: transcript hashes, handshake and traffic secrets.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "crypto/hash.hpp"
#include "crypto/secure_buffer.hpp"

namespace ringtunnel::tunnel {

// Pure functions of their arguments: any thread may call them; none does I/O or fails (a
// crypto library failure aborts the process, see crypto/hash.hpp). They allocate only inside
// the crypto library (one digest or KDF context per call): handshake and key-update paths,
// never per record.

/// Bytes in every secret, key and transcript hash of the schedule.
inline constexpr std::size_t kSecretSize = 32;

/// A 32-byte secret (PRK, handshake key, traffic secret, record key) that wipes itself.
using Secret = crypto::SecureBuffer<kSecretSize>;
/// A read-only view of a secret, for the functions below.
using SecretView = std::span<const std::byte, kSecretSize>;
/// A transcript hash (th1, th2): not secret.
using TranscriptHash = crypto::Sha256Digest;

/// HKDF `info` labels of §1 (the traffic labels are followed by th2).
inline constexpr std::string_view kLabelHandshakeC2s = "rt1 hs c2s";
inline constexpr std::string_view kLabelHandshakeS2c = "rt1 hs s2c";
inline constexpr std::string_view kLabelTrafficC2s = "rt1 ts c2s";
inline constexpr std::string_view kLabelTrafficS2c = "rt1 ts s2c";
inline constexpr std::string_view kLabelRecordKey = "rt1 key";
inline constexpr std::string_view kLabelKeyUpdate = "rt1 update";

/// H(first || second): th1 = H(ClientHello body || ServerHello body), the server signature's
/// digest H(ClientHello body || ServerHello signed part), and th2 = H(th1 || ClientAuth).
[[nodiscard]] TranscriptHash transcript_hash(std::span<const std::byte> first,
                                             std::span<const std::byte> second) noexcept;

/// prk = HKDF-Extract(salt = th1, ikm = shared). The caller wipes `shared` afterwards.
[[nodiscard]] Secret handshake_prk(std::span<const std::byte, kSecretSize> th1,
                                   SecretView shared) noexcept;

/// The two handshake record keys, used as AEAD keys directly (no key() step): ClientAuth is
/// sealed with `c2s`, AuthResult with `s2c`, each as record 0.
struct HandshakeKeys {
  Secret c2s;  ///< HKDF-Expand(prk, "rt1 hs c2s", 32)
  Secret s2c;  ///< HKDF-Expand(prk, "rt1 hs s2c", 32)
};
[[nodiscard]] HandshakeKeys handshake_keys(SecretView prk) noexcept;

/// The first traffic secrets of each direction, bound to th2.
struct TrafficSecrets {
  Secret c2s;  ///< ts_c2s_0 = HKDF-Expand(prk, "rt1 ts c2s" || th2, 32)
  Secret s2c;  ///< ts_s2c_0 = HKDF-Expand(prk, "rt1 ts s2c" || th2, 32)
};
[[nodiscard]] TrafficSecrets traffic_secrets(SecretView prk,
                                             std::span<const std::byte, kSecretSize> th2) noexcept;

/// key(secret) = HKDF-Expand(secret, "rt1 key", 32): the AEAD key of a traffic secret.
[[nodiscard]] Secret record_key(SecretView secret) noexcept;

/// next(secret) = HKDF-Expand(secret, "rt1 update", 32): the secret after a KEY_UPDATE.
[[nodiscard]] Secret next_secret(SecretView secret) noexcept;

/// The token's MAC key H("ringtunnel v1 token" || token). The caller wipes its copy of the
/// token; the key is as secret as the token.
[[nodiscard]] Secret token_key(std::string_view token) noexcept;

/// token_mac = HMAC-SHA256(key = token_key(token), th1): binds the token to one session.
/// Secret until compared: the caller wipes it once done.
[[nodiscard]] Secret token_mac(SecretView token_key,
                               std::span<const std::byte, kSecretSize> th1) noexcept;

}  // namespace ringtunnel::tunnel
