// SPDX-License-Identifier: MIT
// SHA-256, HMAC-SHA256 and HKDF-SHA256 (RFC 5869): the hash side of the key schedule.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <span>

namespace ringtunnel::crypto {

/// Bytes in a SHA-256 digest (also the HMAC-SHA256 output and the HKDF-SHA256 PRK size).
inline constexpr std::size_t kSha256Size = 32;
/// Largest output hkdf_expand can produce: 255 blocks of SHA-256 (RFC 5869 §2.3).
inline constexpr std::size_t kHkdfMaxOutput = 255 * kSha256Size;
/// Largest `info` hkdf_expand accepts (the OpenSSL 3.0 provider's limit; the protocol's
/// longest label is 42 bytes).
inline constexpr std::size_t kHkdfMaxInfo = 1024;

/// A SHA-256 digest. Not secret by itself; when it is (a PRK), wipe it with secure_wipe.
using Sha256Digest = std::array<std::byte, kSha256Size>;

/// SHA-256 of `data` in one call. Any thread; cannot fail (a library failure aborts).
[[nodiscard]] Sha256Digest sha256(std::span<const std::byte> data) noexcept;

/// Incremental SHA-256, for hashing a message that arrives in pieces (handshake transcripts).
///
/// Lifetime: owns one library digest context, allocated by the constructor (never per update).
/// Move-only; a moved-from Sha256 may only be destroyed or assigned to.
/// Threads: one thread at a time per object.
class Sha256 {
 public:
  /// A hasher ready for the first update(). Aborts only if the library cannot allocate.
  Sha256() noexcept;
  /// Moves transfer the context and any data hashed so far. Not copyable.
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  /// Frees the context.
  ~Sha256();

  /// Appends `data` to the message being hashed.
  void update(std::span<const std::byte> data) noexcept;

  /// The digest of everything passed to update() since construction or the last finish();
  /// the object is then reset and can hash a new message.
  [[nodiscard]] Sha256Digest finish() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// HMAC-SHA256 (RFC 2104) of `data` under `key` (any length; empty is allowed). Any thread.
[[nodiscard]] Sha256Digest hmac_sha256(std::span<const std::byte> key,
                                       std::span<const std::byte> data) noexcept;

/// HKDF-Extract (RFC 5869 §2.2): PRK = HMAC-SHA256(salt, ikm). An empty salt means 32 zero
/// bytes, as the RFC specifies. The result is secret: the caller wipes it (secure_wipe).
[[nodiscard]] Sha256Digest hkdf_extract(std::span<const std::byte> salt,
                                        std::span<const std::byte> ikm) noexcept;

/// HKDF-Expand (RFC 5869 §2.3): fills `out` with output keying material derived from `prk`
/// and `info`. Preconditions (caller bugs, checked with RT_ASSERT): `prk` is not empty,
/// out.size() ≤ kHkdfMaxOutput and info.size() ≤ kHkdfMaxInfo. An empty `out` is a no-op.
/// Any thread.
void hkdf_expand(std::span<const std::byte> prk, std::span<const std::byte> info,
                 std::span<std::byte> out) noexcept;

}  // namespace ringtunnel::crypto
