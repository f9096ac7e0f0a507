// SPDX-License-Identifier: MIT
// AeadKey over OpenSSL 3 EVP_CIPHER: contexts keyed once, only the nonce set per record.
#include "crypto/aead.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <new>

#include "crypto/secure_buffer.hpp"
#include "runtime/assert.hpp"

namespace ringtunnel::crypto {
namespace {

struct CipherFree {
  void operator()(EVP_CIPHER* cipher) const noexcept { EVP_CIPHER_free(cipher); }
};
using CipherPtr = std::unique_ptr<EVP_CIPHER, CipherFree>;

const char* cipher_name(AeadAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case AeadAlgorithm::aes_256_gcm:
      return "AES-256-GCM";
    case AeadAlgorithm::chacha20_poly1305:
      return "ChaCha20-Poly1305";
  }
  return nullptr;  // a value read off the wire that names no algorithm
}

unsigned char* uchars(std::byte* data) noexcept { return reinterpret_cast<unsigned char*>(data); }
const unsigned char* uchars(const std::byte* data) noexcept {
  return reinterpret_cast<const unsigned char*>(data);
}

}  // namespace

struct AeadKey::Impl {
  AeadAlgorithm algorithm{};
  EVP_CIPHER_CTX* seal = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* open = EVP_CIPHER_CTX_new();

  Impl() noexcept = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  // EVP_CIPHER_CTX_free wipes the expanded key held by each context.
  ~Impl() {
    EVP_CIPHER_CTX_free(seal);
    EVP_CIPHER_CTX_free(open);
  }
};

bool aead_supported(AeadAlgorithm algorithm) noexcept {
  const char* name = cipher_name(algorithm);
  if (name == nullptr) return false;
  const CipherPtr cipher(EVP_CIPHER_fetch(nullptr, name, nullptr));
  ERR_clear_error();
  return cipher != nullptr;
}

Result<AeadKey> AeadKey::create(AeadAlgorithm algorithm, std::span<const std::byte> key) {
  if (key.size() != kAeadKeySize) return errno_code(EINVAL);
  const char* name = cipher_name(algorithm);
  const CipherPtr cipher(name != nullptr ? EVP_CIPHER_fetch(nullptr, name, nullptr) : nullptr);
  if (!cipher) {
    ERR_clear_error();
    return errno_code(EOPNOTSUPP);
  }
  std::unique_ptr<Impl> impl(new (std::nothrow) Impl);
  if (!impl || impl->seal == nullptr || impl->open == nullptr) return errno_code(ENOMEM);
  impl->algorithm = algorithm;
  // Both contexts get the key schedule now; per record only the nonce changes. The default
  // IV length of both ciphers is the 12 bytes we use.
  if (EVP_EncryptInit_ex2(impl->seal, cipher.get(), uchars(key.data()), nullptr, nullptr) != 1 ||
      EVP_DecryptInit_ex2(impl->open, cipher.get(), uchars(key.data()), nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_get_iv_length(impl->seal) != static_cast<int>(kAeadNonceSize)) {
    ERR_clear_error();
    return errno_code(ENOTRECOVERABLE);
  }
  return AeadKey(std::move(impl));
}

AeadKey::AeadKey(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
AeadKey::AeadKey(AeadKey&& other) noexcept = default;
AeadKey& AeadKey::operator=(AeadKey&& other) noexcept = default;
AeadKey::~AeadKey() = default;

AeadAlgorithm AeadKey::algorithm() const noexcept {
  RT_ASSERT(impl_ != nullptr);  // use after move
  return impl_->algorithm;
}

Result<std::size_t> AeadKey::seal_pieces(std::span<const std::byte, kAeadNonceSize> nonce,
                                         std::span<const std::byte> aad,
                                         std::span<const std::span<const std::byte>> pieces,
                                         std::size_t size, std::span<std::byte> out) noexcept {
  RT_ASSERT(impl_ != nullptr);  // use after move
  EVP_CIPHER_CTX* ctx = impl_->seal;
  unsigned char* dst = uchars(out.data());
  int ignored = 0;
  bool ok = EVP_EncryptInit_ex2(ctx, nullptr, nullptr, uchars(nonce.data()), nullptr) == 1 &&
            (aad.empty() || EVP_EncryptUpdate(ctx, nullptr, &ignored, uchars(aad.data()),
                                              static_cast<int>(aad.size())) == 1);
  std::size_t done = 0;
  for (const auto piece : pieces) {
    if (!ok) break;
    if (piece.empty()) continue;
    int written = 0;
    ok = EVP_EncryptUpdate(ctx, dst + done, &written, uchars(piece.data()),
                           static_cast<int>(piece.size())) == 1;
    done += static_cast<std::size_t>(written);
  }
  int final_written = 0;
  ok = ok && EVP_EncryptFinal_ex(ctx, dst + done, &final_written) == 1 &&
       done + static_cast<std::size_t>(final_written) == size &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kAeadTagSize, dst + size) == 1;
  if (!ok) {
    ERR_clear_error();
    return errno_code(ENOTRECOVERABLE);
  }
  return size + kAeadTagSize;
}

Result<std::size_t> AeadKey::open_ciphertext(std::span<const std::byte, kAeadNonceSize> nonce,
                                             std::span<const std::byte> aad,
                                             std::span<const std::byte> ciphertext,
                                             std::span<std::byte, kAeadTagSize> tag,
                                             std::span<std::byte> out) noexcept {
  RT_ASSERT(impl_ != nullptr);  // use after move
  const std::size_t size = ciphertext.size();
  EVP_CIPHER_CTX* ctx = impl_->open;
  unsigned char* dst = uchars(out.data());
  int ignored = 0;
  int written = 0;
  int final_written = 0;
  const bool ok =
      EVP_DecryptInit_ex2(ctx, nullptr, nullptr, uchars(nonce.data()), nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kAeadTagSize, uchars(tag.data())) == 1 &&
      (aad.empty() || EVP_DecryptUpdate(ctx, nullptr, &ignored, uchars(aad.data()),
                                        static_cast<int>(aad.size())) == 1) &&
      (size == 0 || EVP_DecryptUpdate(ctx, dst, &written, uchars(ciphertext.data()),
                                      static_cast<int>(size)) == 1) &&
      EVP_DecryptFinal_ex(ctx, dst + size, &final_written) == 1 &&
      static_cast<std::size_t>(written) + static_cast<std::size_t>(final_written) == size;
  if (!ok) {
    // Unauthenticated plaintext must not survive for anyone to act on.
    secure_wipe(out);
    ERR_clear_error();
    return errno_code(EBADMSG);
  }
  return size;
}

}  // namespace ringtunnel::crypto
