// SPDX-License-Identifier: MIT
// Ed25519 signing and verification over OpenSSL 3 EVP_PKEY raw keys (EVP_DigestSign/Verify).
#include "crypto/ed25519.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>

#include "crypto/library_error.hpp"
#include "crypto/random.hpp"

namespace ringtunnel::crypto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

const unsigned char* uchars(std::span<const std::byte> data) noexcept {
  // A real address even for an empty message: OpenSSL may memcpy from it with length 0.
  static constexpr unsigned char kEmpty = 0;
  return data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data());
}

PkeyPtr pkey_from_seed(std::span<const std::byte, kEd25519SeedSize> seed) noexcept {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, uchars(seed), seed.size()));
  if (!key) detail::library_failure("Ed25519 private key import failed");
  return key;
}

}  // namespace

Ed25519PrivateKey Ed25519PrivateKey::generate() noexcept {
  SecureBuffer<kEd25519SeedSize> seed;
  random_bytes(seed.span());
  return from_seed(seed.span());
}

Ed25519PrivateKey Ed25519PrivateKey::from_seed(
    std::span<const std::byte, kEd25519SeedSize> seed) noexcept {
  const PkeyPtr key = pkey_from_seed(seed);
  Ed25519PublicKey public_key;
  std::size_t length = public_key.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(public_key.data()),
                                  &length) != 1 ||
      length != public_key.size()) {
    detail::library_failure("Ed25519 public key derivation failed");
  }
  return Ed25519PrivateKey(seed, public_key);
}

Ed25519Signature Ed25519PrivateKey::sign(std::span<const std::byte> message) const noexcept {
  const PkeyPtr key = pkey_from_seed(seed_.span());
  const MdCtxPtr ctx(EVP_MD_CTX_new());
  Ed25519Signature signature;
  std::size_t length = signature.size();
  // Pure Ed25519 takes no separate digest: the md argument is null and the whole message
  // goes to one EVP_DigestSign call.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     uchars(message), message.size()) != 1 ||
      length != signature.size()) {
    detail::library_failure("Ed25519 signing failed");
  }
  return signature;
}

bool ed25519_verify(std::span<const std::byte, kEd25519PublicKeySize> public_key,
                    std::span<const std::byte> message,
                    std::span<const std::byte, kEd25519SignatureSize> signature) noexcept {
  const PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, uchars(public_key),
                                                public_key.size()));
  const MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool valid = key && ctx &&
                     EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
                     EVP_DigestVerify(ctx.get(), uchars(signature), signature.size(),
                                      uchars(message), message.size()) == 1;
  // A bad signature leaves an error on the queue; it is an answer, not a failure to report.
  ERR_clear_error();
  return valid;
}

}  // namespace ringtunnel::crypto
