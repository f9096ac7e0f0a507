// SPDX-License-Identifier: MIT
// X25519 over OpenSSL 3 EVP_PKEY raw keys; rejects small-order peer keys.
#include "crypto/x25519.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>

#include "crypto/library_error.hpp"
#include "crypto/secure_buffer.hpp"

namespace ringtunnel::crypto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const noexcept { EVP_PKEY_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

const unsigned char* uchars(std::span<const std::byte, kX25519KeySize> key) noexcept {
  return reinterpret_cast<const unsigned char*>(key.data());
}

PkeyPtr private_pkey(std::span<const std::byte, kX25519KeySize> private_key) noexcept {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, uchars(private_key),
                                           private_key.size()));
  if (!key) detail::library_failure("X25519 private key import failed");
  return key;
}

}  // namespace

std::array<std::byte, kX25519KeySize> x25519_public_key(
    std::span<const std::byte, kX25519KeySize> private_key) noexcept {
  const PkeyPtr key = private_pkey(private_key);
  std::array<std::byte, kX25519KeySize> public_key;
  std::size_t length = public_key.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(public_key.data()),
                                  &length) != 1 ||
      length != public_key.size()) {
    detail::library_failure("X25519 public key derivation failed");
  }
  return public_key;
}

Result<std::array<std::byte, kX25519KeySize>> x25519_shared(
    std::span<const std::byte, kX25519KeySize> private_key,
    std::span<const std::byte, kX25519KeySize> peer_public) {
  // One named return object on every path: the secret is derived straight into the caller's
  // storage (NRVO) and no stray copy is left on the stack.
  Result<std::array<std::byte, kX25519KeySize>> result(std::array<std::byte, kX25519KeySize>{});
  const PkeyPtr own = private_pkey(private_key);
  const PkeyPtr peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, uchars(peer_public),
                                                 peer_public.size()));
  const PkeyCtxPtr ctx(EVP_PKEY_CTX_new(own.get(), nullptr));
  if (!peer || !ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1) {
    ERR_clear_error();
    result = errno_code(ENOTRECOVERABLE);
    return result;
  }
  std::array<std::byte, kX25519KeySize>& secret = result.value();
  std::size_t length = secret.size();
  // OpenSSL itself refuses to derive an all-zero secret, so a derive failure here means a
  // small-order peer point; the explicit check keeps that guarantee for any backend.
  static constexpr std::array<std::byte, kX25519KeySize> kZero{};
  if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(secret.data()), &length) != 1 ||
      length != secret.size() || CRYPTO_memcmp(secret.data(), kZero.data(), kZero.size()) == 0) {
    ERR_clear_error();
    secure_wipe(secret);
    result = x25519_small_order_error();
  }
  return result;
}

}  // namespace ringtunnel::crypto
