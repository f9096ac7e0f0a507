// SPDX-License-Identifier: MIT
// X25519 over wolfCrypt's curve25519 (little-endian, as RFC 7748); rejects small-order peers.
#include "crypto/x25519.hpp"
#include "crypto/wolfssl/wolfcrypt.hpp"
// The wolfSSL headers after wolfcrypt.hpp, which includes their options.h first.
#include <wolfssl/wolfcrypt/curve25519.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <algorithm>

#include "crypto/constant_time.hpp"
#include "crypto/library_error.hpp"
#include "crypto/secure_buffer.hpp"

namespace ringtunnel::crypto {
namespace {

using detail::note_library_error;
using detail::wolf_in;
using detail::wolf_out;
using detail::wolf_size;

using Key = std::array<std::byte, kX25519KeySize>;

// RFC 7748 §5 decodeScalar25519. X25519 clamps every scalar itself, so this changes no
// result; wolfCrypt's wc_curve25519_make_pub refuses an unclamped one (ECC_BAD_ARG_E).
SecureBuffer<kX25519KeySize> clamped(std::span<const std::byte, kX25519KeySize> scalar) noexcept {
  SecureBuffer<kX25519KeySize> k(scalar);
  k.data()[0] &= std::byte{248};
  k.data()[31] &= std::byte{127};
  k.data()[31] |= std::byte{64};
  return k;
}

// An initialised curve25519_key, freed (and zeroed) on every path.
class WolfX25519Key {
 public:
  WolfX25519Key() noexcept {
    if (note_library_error(wc_curve25519_init(&key_)) != 0) {
      detail::library_failure("X25519 key setup failed");
    }
  }
  WolfX25519Key(const WolfX25519Key&) = delete;
  WolfX25519Key& operator=(const WolfX25519Key&) = delete;
  ~WolfX25519Key() {
    wc_curve25519_free(&key_);
    secure_wipe(std::as_writable_bytes(std::span(&key_, 1)));
  }

  curve25519_key* get() noexcept { return &key_; }

 private:
  curve25519_key key_;
};

}  // namespace

Key x25519_public_key(std::span<const std::byte, kX25519KeySize> private_key) noexcept {
  const SecureBuffer<kX25519KeySize> scalar = clamped(private_key);
  Key public_key;
  if (note_library_error(wc_curve25519_make_pub(static_cast<int>(public_key.size()),
                                                wolf_out(public_key),
                                                static_cast<int>(scalar.size()),
                                                wolf_in(scalar.span()))) != 0) {
    detail::library_failure("X25519 public key derivation failed");
  }
  return public_key;
}

Result<Key> x25519_shared(std::span<const std::byte, kX25519KeySize> private_key,
                          std::span<const std::byte, kX25519KeySize> peer_public) {
  // One named return object on every path: the secret is derived straight into the caller's
  // storage (NRVO) and no stray copy is left on the stack.
  Result<Key> result(Key{});
  // RFC 7748 §5: the receiver masks the top bit of the u-coordinate. wolfCrypt refuses a key
  // with it set (ECC_BAD_ARG_E, against fingerprinting) instead, so mask it here.
  Key peer;
  std::copy(peer_public.begin(), peer_public.end(), peer.begin());
  peer[31] &= std::byte{0x7f};
  WolfX25519Key own;
  WolfX25519Key other;
  if (note_library_error(wc_curve25519_import_private_ex(wolf_in(private_key),
                                                         wolf_size(private_key), own.get(),
                                                         EC25519_LITTLE_ENDIAN)) != 0 ||
      note_library_error(wc_curve25519_import_public_ex(wolf_in(peer), wolf_size(peer),
                                                        other.get(), EC25519_LITTLE_ENDIAN)) != 0) {
    result = errno_code(ENOTRECOVERABLE);
    return result;
  }
  Key& secret = result.value();
  word32 length = wolf_size(secret);
  int ret = wc_curve25519_shared_secret_ex(own.get(), other.get(), wolf_out(secret), &length,
                                           EC25519_LITTLE_ENDIAN);
  if (ret == 0 && length != secret.size()) ret = BUFFER_E;
  // A small-order point makes the secret all zero. This build returns the zeros; builds with
  // WOLFSSL_ECDHX_SHARED_NOT_ZERO refuse with ECC_OUT_OF_RANGE_E: both are that peer.
  static constexpr Key kZero{};
  if (ret == ECC_OUT_OF_RANGE_E || (ret == 0 && constant_time_equal(secret, kZero))) {
    secure_wipe(secret);
    result = x25519_small_order_error();
  } else if (note_library_error(ret) != 0) {
    secure_wipe(secret);
    result = errno_code(ENOTRECOVERABLE);
  }
  return result;
}

}  // namespace ringtunnel::crypto
