// SPDX-License-Identifier: MIT
// Internal to src/crypto: the PEM PKCS#8 codec behind the Ed25519 key files, one per backend.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "crypto/ed25519.hpp"

namespace ringtunnel::crypto::detail {

/// Writes the Ed25519 key with `seed` to `fd` as unencrypted PEM PKCS#8: "-----BEGIN PRIVATE
/// KEY-----", the base64 of 302e020100300506032b657004220420 || seed on one line, "-----END
/// PRIVATE KEY-----", each line ending in '\n'. Every backend writes exactly these bytes (what
/// `openssl pkey` prints), so a data dir moves between builds. Copies of the seed the codec
/// makes are wiped. Returns 0, the errno of a failed write, or EIO when the library cannot
/// encode (take_library_error() then says why). Blocks.
[[nodiscard]] int write_ed25519_pem(int fd,
                                    std::span<const std::byte, kEd25519SeedSize> seed) noexcept;

/// What read_ed25519_pem found.
enum class PemKeyRead {
  ed25519,     ///< an Ed25519 private key; its seed is in `seed`
  not_a_key,   ///< no PEM private key the library can parse; take_library_error() says why
  encrypted,   ///< a passphrase-protected key, refused without asking for the passphrase
  other_type,  ///< a private key of another type, which `type` names ("X25519", "RSA" ...)
  no_seed,     ///< an Ed25519 key whose seed could not be extracted; take_library_error()
};

/// Parses the PEM private key in `text` (a key file's contents) as OpenSSL's
/// PEM_read_bio_PrivateKey would: PKCS#8, and the traditional forms for other key types.
/// Fills `seed` only for PemKeyRead::ed25519 and `type` only for other_type (empty when the
/// library has no name for it). Any thread; copies of the key it makes are wiped.
[[nodiscard]] PemKeyRead read_ed25519_pem(std::span<const std::byte> text,
                                          std::span<std::byte, kEd25519SeedSize> seed,
                                          std::string& type);

}  // namespace ringtunnel::crypto::detail
