// SPDX-License-Identifier: MIT
// HKDF-Expand-Label (RFC 8446 §7.1) over OpenSSL 3's EVP_KDF "HKDF", for the record layer.
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <cstring>

#include "crypto/tls/record_layer.hpp"

namespace ringtunnel::crypto::tls {

Result<void> expand_label(TrafficHash hash, std::span<const std::byte> secret,
                          std::string_view label, std::span<std::byte> out) noexcept {
  // HkdfLabel: u16 length || u8 len || "tls13 " label || u8 0 (an empty context).
  static constexpr std::string_view kPrefix = "tls13 ";
  std::array<std::byte, 2 + 1 + 255 + 1> info{};
  const std::size_t label_size = kPrefix.size() + label.size();
  if (label_size > 255 || out.size() > 0xffff) return errno_code(EINVAL);
  info[0] = static_cast<std::byte>(out.size() >> 8);
  info[1] = static_cast<std::byte>(out.size());
  info[2] = static_cast<std::byte>(label_size);
  std::memcpy(info.data() + 3, kPrefix.data(), kPrefix.size());
  std::memcpy(info.data() + 3 + kPrefix.size(), label.data(), label.size());
  const std::size_t info_size = 3 + label_size + 1;  // the context length byte stays 0

  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
  if (ctx == nullptr) {
    ERR_clear_error();
    return errno_code(ENOTRECOVERABLE);
  }
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  char sha256[] = "SHA256";
  char sha384[] = "SHA384";
  // OSSL_PARAM wants non-const pointers but only reads through them.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                       hash == TrafficHash::sha384 ? sha384 : sha256, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::byte*>(secret.data()),
                                        secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info_size),
      OSSL_PARAM_construct_end(),
  };
  const int ok =
      EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), out.size(), params);
  EVP_KDF_CTX_free(ctx);  // wipes the secret's copy it held
  if (ok != 1) {
    ERR_clear_error();
    return errno_code(ENOTRECOVERABLE);
  }
  return {};
}

}  // namespace ringtunnel::crypto::tls
