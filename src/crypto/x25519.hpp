// SPDX-License-Identifier: MIT
// X25519 (RFC 7748): ephemeral key pairs and the Diffie-Hellman shared secret.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <system_error>

#include "runtime/result.hpp"

namespace ringtunnel::crypto {

/// Bytes in an X25519 private key, public key and shared secret.
inline constexpr std::size_t kX25519KeySize = 32;

/// An X25519 key pair. The private key is wiped when the pair is destroyed; moving copies
/// the bytes and wipes the source. Not copyable, so the private key is never duplicated by
/// accident. Threads: a value, no synchronisation.
struct X25519KeyPair {
  std::array<std::byte, kX25519KeySize> private_key{};  ///< secret scalar (clamped on use)
  std::array<std::byte, kX25519KeySize> public_key{};   ///< X25519(private_key, 9)

  /// Both keys zero; x25519_generate() makes a real pair.
  X25519KeyPair() noexcept = default;
  /// Moves copy both keys and wipe the source. Not copyable.
  X25519KeyPair(X25519KeyPair&& other) noexcept;
  X25519KeyPair& operator=(X25519KeyPair&& other) noexcept;
  X25519KeyPair(const X25519KeyPair&) = delete;
  X25519KeyPair& operator=(const X25519KeyPair&) = delete;
  /// Wipes both keys.
  ~X25519KeyPair();

  /// Wipes both keys now (the destructor does it too).
  void wipe() noexcept;
};

/// A fresh key pair from the CSPRNG. Any thread; cannot fail (library failures abort).
[[nodiscard]] X25519KeyPair x25519_generate() noexcept;

/// The public key for `private_key` (RFC 7748 §6.1: X25519(k, 9)). Any thread.
[[nodiscard]] std::array<std::byte, kX25519KeySize> x25519_public_key(
    std::span<const std::byte, kX25519KeySize> private_key) noexcept;

/// The error x25519_shared reports for a peer key of small order: EKEYREJECTED
/// ("Key was rejected by service"). Compare with `==`.
inline std::error_code x25519_small_order_error() noexcept {
  return errno_code(EKEYREJECTED);
}

/// X25519(private_key, peer_public): the 32-byte shared secret, which the caller wipes
/// (secure_wipe) once it has derived keys from it. Any thread.
///
/// Errors: x25519_small_order_error() when the peer sent a point of small order, which would
/// make the secret all zero and independent of our key (RFC 7748 §6.1); the handshake must
/// abort. ENOTRECOVERABLE if the library fails otherwise.
[[nodiscard]] Result<std::array<std::byte, kX25519KeySize>> x25519_shared(
    std::span<const std::byte, kX25519KeySize> private_key,
    std::span<const std::byte, kX25519KeySize> peer_public);

}  // namespace ringtunnel::crypto
