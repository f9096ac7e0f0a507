// SPDX-License-Identifier: MIT
// AeadKey: AES-256-GCM / ChaCha20-Poly1305 record protection with counter nonces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "runtime/result.hpp"

namespace ringtunnel::crypto {

/// The AEAD algorithms, numbered as on the wire (ClientHello `aeads`, ServerHello `aead`).
enum class AeadAlgorithm : std::uint8_t { aes_256_gcm = 1, chacha20_poly1305 = 2 };

/// Bytes of authentication tag appended to every sealed record.
inline constexpr std::size_t kAeadTagSize = 16;
/// Bytes in an AEAD key (both algorithms).
inline constexpr std::size_t kAeadKeySize = 32;
/// Bytes in a nonce: 4 zero bytes || the 64-bit record counter, big-endian (protocol.md §2).
inline constexpr std::size_t kAeadNonceSize = 12;
/// Largest plaintext (or ciphertext+tag) one call accepts; the library counts in int.
inline constexpr std::size_t kAeadMaxInput = 0x7fffffff - kAeadTagSize;

/// True when this build's crypto library provides `algorithm` (false for unknown values).
/// Any thread.
[[nodiscard]] bool aead_supported(AeadAlgorithm algorithm) noexcept;

/// One direction's record key with its cipher contexts initialised once, so that seal() and
/// open() allocate nothing: each call only sets the nonce and runs the cipher.
///
/// Nonces come from the caller's record counter (0x00000000 || counter, big-endian). Using a
/// counter twice with one key destroys confidentiality and, for GCM, authenticity: the
/// session owns the counter and never reuses or wraps it.
///
/// Lifetime: move-only; owns its contexts and wipes the key schedule when destroyed. A
/// moved-from AeadKey may only be destroyed or assigned to.
/// Threads: one thread at a time per object (the reactor core that owns the session).
class AeadKey {
 public:
  /// Builds a key for `algorithm` from `key` (kAeadKeySize bytes; the caller wipes its copy).
  /// Errors: EINVAL when key.size() != kAeadKeySize; EOPNOTSUPP when the algorithm is unknown
  /// or not provided by the library; ENOMEM/ENOTRECOVERABLE when the library fails.
  [[nodiscard]] static Result<AeadKey> create(AeadAlgorithm algorithm,
                                              std::span<const std::byte> key);

  /// Moves transfer the contexts; the source becomes empty. Not copyable.
  AeadKey(AeadKey&& other) noexcept;
  AeadKey& operator=(AeadKey&& other) noexcept;
  AeadKey(const AeadKey&) = delete;
  AeadKey& operator=(const AeadKey&) = delete;
  /// Frees both contexts, which wipes the key schedule.
  ~AeadKey();

  /// The algorithm this key was created for.
  [[nodiscard]] AeadAlgorithm algorithm() const noexcept;

  /// Encrypts `plaintext` and authenticates it with `aad`, writing ciphertext || tag to the
  /// front of `out`; returns plaintext.size() + kAeadTagSize. In place is allowed
  /// (out.data() == plaintext.data()); any other overlap is refused.
  /// Errors: EINVAL when `out` is too small or overlaps `plaintext` partially; EMSGSIZE over
  /// kAeadMaxInput; ENOTRECOVERABLE if the library fails (close the session).
  [[nodiscard]] Result<std::size_t> seal(std::uint64_t counter, std::span<const std::byte> aad,
                                         std::span<const std::byte> plaintext,
                                         std::span<std::byte> out) noexcept;

  /// Like seal(), but the plaintext is the concatenation of `pieces`: a record is sealed from
  /// its frame headers and payloads where they lie, with no gathering copy first. Ciphertext
  /// and tag are written contiguously to the front of `out`, which must not overlap any
  /// piece. Returns the total plaintext size + kAeadTagSize.
  /// Errors: as seal() (EINVAL for any overlap or a short `out`).
  [[nodiscard]] Result<std::size_t> seal_gather(
      std::uint64_t counter, std::span<const std::byte> aad,
      std::span<const std::span<const std::byte>> pieces, std::span<std::byte> out) noexcept;

  /// Checks and decrypts ciphertext || tag sealed under `counter` and `aad`, writing the
  /// plaintext to the front of `out`; returns ciphertext_and_tag.size() - kAeadTagSize. In
  /// place is allowed (out.data() == ciphertext_and_tag.data()).
  /// Errors: EBADMSG when the record does not authenticate (wrong tag, key, counter or AAD;
  /// shorter than a tag): the bytes written to `out` are wiped, never trust them; EINVAL
  /// when `out` is too small or overlaps partially; EMSGSIZE over kAeadMaxInput.
  [[nodiscard]] Result<std::size_t> open(std::uint64_t counter, std::span<const std::byte> aad,
                                         std::span<const std::byte> ciphertext_and_tag,
                                         std::span<std::byte> out) noexcept;

  /// seal_gather() and open() with the whole nonce given, for a record layer whose nonces are
  /// not a bare counter (TLS 1.3: the traffic IV XOR the sequence number, RFC 8446 §5.3). The
  /// caller owns nonce uniqueness as with counters.
  [[nodiscard]] Result<std::size_t> seal_gather_with_nonce(
      std::span<const std::byte, kAeadNonceSize> nonce, std::span<const std::byte> aad,
      std::span<const std::span<const std::byte>> pieces, std::span<std::byte> out) noexcept;
  [[nodiscard]] Result<std::size_t> open_with_nonce(
      std::span<const std::byte, kAeadNonceSize> nonce, std::span<const std::byte> aad,
      std::span<const std::byte> ciphertext_and_tag, std::span<std::byte> out) noexcept;

 private:
  // Tests reach seal_with_nonce through this to run published vectors whose
  // nonces do not have the counter layout. Defined only in tests/unit/crypto/aead_test.cpp.
  friend struct AeadKeyTestPeer;
  struct Impl;

  explicit AeadKey(std::unique_ptr<Impl> impl) noexcept;

  // The argument checks, shared by both backends (src/crypto/aead.cpp).
  Result<std::size_t> seal_with_nonce(std::span<const std::byte, kAeadNonceSize> nonce,
                                      std::span<const std::byte> aad,
                                      std::span<const std::byte> plaintext,
                                      std::span<std::byte> out) noexcept;

  // The cipher runs, one per backend (src/crypto/<backend>/aead.cpp), on checked arguments:
  // sizes within limits, `out` large enough, overlaps only exact (in place) where allowed.
  // seal_pieces writes ciphertext || tag (`size` is the pieces' total); open_ciphertext gets
  // the tag already copied out of the record and writes ciphertext.size() bytes to `out`.
  Result<std::size_t> seal_pieces(std::span<const std::byte, kAeadNonceSize> nonce,
                                  std::span<const std::byte> aad,
                                  std::span<const std::span<const std::byte>> pieces,
                                  std::size_t size, std::span<std::byte> out) noexcept;
  Result<std::size_t> open_ciphertext(std::span<const std::byte, kAeadNonceSize> nonce,
                                      std::span<const std::byte> aad,
                                      std::span<const std::byte> ciphertext,
                                      std::span<std::byte, kAeadTagSize> tag,
                                      std::span<std::byte> out) noexcept;

  std::unique_ptr<Impl> impl_;
};

}  // namespace ringtunnel::crypto
