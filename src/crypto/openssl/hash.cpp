// SPDX-License-Identifier: MIT
// SHA-256, HMAC-SHA256 and HKDF-SHA256 over OpenSSL 3 EVP (EVP_MD, HMAC, EVP_KDF "HKDF").
#include "crypto/hash.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <climits>

#include "crypto/library_error.hpp"
#include "runtime/assert.hpp"

namespace ringtunnel::crypto {
namespace {

// Fetched once: the implicit fetch behind EVP_sha256() costs a lock and a lookup per call.
// Intentionally never freed; it lives as long as the process.
const EVP_MD* sha256_md() noexcept {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) detail::library_failure("SHA-256 is not available");
  return md;
}

EVP_KDF* hkdf_kdf() noexcept {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) detail::library_failure("HKDF is not available");
  return kdf;
}

const unsigned char* bytes_of(std::span<const std::byte> data) noexcept {
  // Some OpenSSL entry points treat a null pointer as "not given" even with length 0
  // (HMAC with a null key reuses the previous key): always hand them a real address.
  static constexpr unsigned char kEmpty = 0;
  return data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data());
}

}  // namespace

Sha256Digest sha256(std::span<const std::byte> data) noexcept {
  Sha256Digest digest;
  unsigned int length = 0;
  if (EVP_Digest(bytes_of(data), data.size(), reinterpret_cast<unsigned char*>(digest.data()),
                 &length, sha256_md(), nullptr) != 1 ||
      length != digest.size()) {
    detail::library_failure("SHA-256 digest failed");
  }
  return digest;
}

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;

  Impl() noexcept : ctx(EVP_MD_CTX_new()) {
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, sha256_md(), nullptr) != 1) {
      detail::library_failure("SHA-256 context setup failed");
    }
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() noexcept : impl_(std::make_unique<Impl>()) {}
Sha256::Sha256(Sha256&& other) noexcept = default;
Sha256& Sha256::operator=(Sha256&& other) noexcept = default;
Sha256::~Sha256() = default;

void Sha256::update(std::span<const std::byte> data) noexcept {
  RT_ASSERT(impl_ != nullptr);  // use after move
  if (data.empty()) return;
  if (EVP_DigestUpdate(impl_->ctx, data.data(), data.size()) != 1) {
    detail::library_failure("SHA-256 update failed");
  }
}

Sha256Digest Sha256::finish() noexcept {
  RT_ASSERT(impl_ != nullptr);  // use after move
  Sha256Digest digest;
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(impl_->ctx, reinterpret_cast<unsigned char*>(digest.data()), &length) !=
          1 ||
      length != digest.size() || EVP_DigestInit_ex(impl_->ctx, sha256_md(), nullptr) != 1) {
    detail::library_failure("SHA-256 finish failed");
  }
  return digest;
}

Sha256Digest hmac_sha256(std::span<const std::byte> key, std::span<const std::byte> data) noexcept {
  RT_ASSERT(key.size() <= INT_MAX);
  Sha256Digest mac;
  unsigned int length = 0;
  if (HMAC(sha256_md(), bytes_of(key), static_cast<int>(key.size()), bytes_of(data), data.size(),
           reinterpret_cast<unsigned char*>(mac.data()), &length) == nullptr ||
      length != mac.size()) {
    detail::library_failure("HMAC-SHA256 failed");
  }
  return mac;
}

Sha256Digest hkdf_extract(std::span<const std::byte> salt,
                          std::span<const std::byte> ikm) noexcept {
  // RFC 5869 §2.2 is exactly HMAC(salt, IKM); HMAC pads a short key (an empty salt) with
  // zeros, which is the RFC's "HashLen zeros" default.
  return hmac_sha256(salt, ikm);
}

void hkdf_expand(std::span<const std::byte> prk, std::span<const std::byte> info,
                 std::span<std::byte> out) noexcept {
  RT_ASSERT(out.size() <= kHkdfMaxOutput);
  RT_ASSERT(info.size() <= kHkdfMaxInfo);
  RT_ASSERT(!prk.empty());
  if (out.empty()) return;
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(hkdf_kdf());
  if (ctx == nullptr) detail::library_failure("HKDF context allocation failed");
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  char digest_name[] = "SHA256";
  // OSSL_PARAM wants non-const pointers but only reads through them.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::byte*>(prk.data()),
                                        prk.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<std::byte*>(info.data()),
                                        info.size()),
      OSSL_PARAM_construct_end(),
  };
  if (info.empty()) params[3] = OSSL_PARAM_construct_end();
  const int ok =
      EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), out.size(), params);
  EVP_KDF_CTX_free(ctx);  // wipes the PRK copy it held
  if (ok != 1) detail::library_failure("HKDF-Expand failed");
}

}  // namespace ringtunnel::crypto
