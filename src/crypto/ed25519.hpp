// SPDX-License-Identifier: MIT
// Ed25519 (RFC 8032) identity keys: sign, verify, and 0600 PEM key files.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>

#include "crypto/secure_buffer.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::crypto {

/// Bytes in an Ed25519 private seed (RFC 8032 §5.1.5).
inline constexpr std::size_t kEd25519SeedSize = 32;
/// Bytes in an Ed25519 public key.
inline constexpr std::size_t kEd25519PublicKeySize = 32;
/// Bytes in an Ed25519 signature.
inline constexpr std::size_t kEd25519SignatureSize = 64;

/// An Ed25519 public key (RFC 8032 §5.1.5 encoding).
using Ed25519PublicKey = std::array<std::byte, kEd25519PublicKeySize>;
/// An Ed25519 signature (R || S).
using Ed25519Signature = std::array<std::byte, kEd25519SignatureSize>;

class Ed25519PrivateKey;

/// Writes `key` to `path` as an unencrypted PEM PKCS#8 file ("BEGIN PRIVATE KEY", readable by
/// `openssl pkey`). The bytes go to `path.tmp`, created with O_CREAT|O_EXCL and mode 0600
/// (the umask can only narrow it), are fsynced, and are then renamed onto `path` without
/// replacing anything, so `path` either does not exist or holds the whole key.
///
/// Errors (with one sentence naming the file and the fix in `*error` when non-null):
/// EEXIST when `path` or `path.tmp` already exists (a key is never overwritten); the errno of
/// a failed open/write/fsync/rename; EIO when the PEM encoder fails. Start-up only: blocks.
Result<void> save_private_key(const Ed25519PrivateKey& key, const std::string& path,
                              std::string* error = nullptr);

/// An Ed25519 private key: the 32-byte RFC 8032 seed (wiped on destruction) and its public
/// key. Move-only (moving wipes the source's seed). Any thread may use its own object; const
/// methods may be called from several threads at once.
class Ed25519PrivateKey {
 public:
  /// A new key from a random seed (random_bytes). Cannot fail; library failures abort.
  [[nodiscard]] static Ed25519PrivateKey generate() noexcept;
  /// The key for `seed` (RFC 8032 §5.1.5); the caller wipes its own copy of the seed.
  [[nodiscard]] static Ed25519PrivateKey from_seed(
      std::span<const std::byte, kEd25519SeedSize> seed) noexcept;

  /// Moves copy the seed and wipe the source. Not copyable.
  Ed25519PrivateKey(Ed25519PrivateKey&&) noexcept = default;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&&) noexcept = default;
  Ed25519PrivateKey(const Ed25519PrivateKey&) = delete;
  Ed25519PrivateKey& operator=(const Ed25519PrivateKey&) = delete;
  /// Wipes the seed (SecureBuffer).
  ~Ed25519PrivateKey() = default;

  /// The matching public key (computed once, at construction).
  [[nodiscard]] Ed25519PublicKey public_key() const noexcept { return public_key_; }

  /// The RFC 8032 (pure Ed25519, deterministic) signature over `message`. Allocates a library
  /// key per call: meant for handshakes, not per record. Library failures abort.
  [[nodiscard]] Ed25519Signature sign(std::span<const std::byte> message) const noexcept;

 private:
  friend Result<void> save_private_key(const Ed25519PrivateKey& key, const std::string& path,
                                       std::string* error);

  Ed25519PrivateKey(std::span<const std::byte, kEd25519SeedSize> seed,
                    const Ed25519PublicKey& public_key) noexcept
      : seed_(seed), public_key_(public_key) {}

  SecureBuffer<kEd25519SeedSize> seed_;
  Ed25519PublicKey public_key_;
};

/// True only when `signature` is a valid RFC 8032 Ed25519 signature of `message` under
/// `public_key`. Malformed keys or signatures are simply false. Any thread.
[[nodiscard]] bool ed25519_verify(
    std::span<const std::byte, kEd25519PublicKeySize> public_key,
    std::span<const std::byte> message,
    std::span<const std::byte, kEd25519SignatureSize> signature) noexcept;

/// Reads a private key written by save_private_key (or `openssl genpkey -algorithm ed25519`).
/// Like ssh, refuses a file that group or others may access.
///
/// Errors (with one sentence naming the file and the fix in `*error` when non-null):
/// the errno of a failed open; EACCES with "permissions 0644 for 'X' are too open; run
/// chmod 600 X"; EINVAL when the file is not a regular file, is over 64 KiB, is not a PEM
/// private key (encrypted keys included: no passphrase prompt) or holds another key type.
/// Start-up only: blocks.
[[nodiscard]] Result<Ed25519PrivateKey> load_private_key(const std::string& path,
                                                         std::string* error);

}  // namespace ringtunnel::crypto
