// SPDX-License-Identifier: MIT
// Internal to the wolfSSL backend: an ed25519_key freed on every path, and its import from a seed.
#pragma once

#include "crypto/wolfssl/wolfcrypt.hpp"
// The wolfSSL headers after wolfcrypt.hpp, which includes their options.h first.
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "crypto/ed25519.hpp"

namespace ringtunnel::crypto::detail {

/// An ed25519_key, initialised here and freed (which zeroes it, private half included) on every
/// path. Used by the signer (ed25519.cpp), the key file codec and the self-signed certificate.
class WolfEd25519Key {
 public:
  WolfEd25519Key() noexcept : ok_(note_library_error(wc_ed25519_init(&key_)) == 0) {}
  WolfEd25519Key(const WolfEd25519Key&) = delete;
  WolfEd25519Key& operator=(const WolfEd25519Key&) = delete;
  ~WolfEd25519Key() {
    if (ok_) wc_ed25519_free(&key_);
  }

  /// Null when wc_ed25519_init failed.
  ed25519_key* get() noexcept { return ok_ ? &key_ : nullptr; }

  /// Imports `seed` and the public key derived from it (wolfCrypt's signer needs both) and
  /// writes that public key to `public_key`. 0 or the wolfCrypt error (recorded).
  int import_seed(std::span<const std::byte, kEd25519SeedSize> seed,
                  std::span<std::byte, kEd25519PublicKeySize> public_key) noexcept {
    if (!ok_) return BAD_STATE_E;
    int ret = wc_ed25519_import_private_only(wolf_in(seed), wolf_size(seed), &key_);
    if (ret == 0) ret = wc_ed25519_make_public(&key_, wolf_out(public_key), wolf_size(public_key));
    if (ret == 0) {
      ret = wc_ed25519_import_private_key(wolf_in(seed), wolf_size(seed), wolf_in(public_key),
                                          wolf_size(public_key), &key_);
    }
    return note_library_error(ret);
  }

 private:
  ed25519_key key_;
  bool ok_;
};

}  // namespace ringtunnel::crypto::detail
