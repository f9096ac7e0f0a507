// SPDX-License-Identifier: MIT
// AeadKey over wolfCrypt: streaming AES-GCM keyed once, ChaCha20-Poly1305 through its IUF API.
#include "crypto/aead.hpp"
#include "crypto/wolfssl/wolfcrypt.hpp"
// The wolfSSL headers after wolfcrypt.hpp, which includes their options.h first.
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <array>
#include <new>

#include "crypto/secure_buffer.hpp"
#include "runtime/assert.hpp"

// seal_gather seals its pieces where they lie; one-shot wc_AesGcmEncrypt would need them
// gathered first, so AES-GCM is offered only with the streaming API (--enable-aesgcmstream;
// Debian's build has it). Without it AES-256-GCM reports EOPNOTSUPP and the handshake settles
// on ChaCha20-Poly1305, which wolfCrypt always streams.
#if defined(HAVE_AESGCM) && defined(WOLFSSL_AESGCM_STREAM)
#define RT_WOLFSSL_AES_GCM 1
#endif
#if defined(HAVE_CHACHA) && defined(HAVE_POLY1305) && !defined(NO_CHACHAPOLY_AEAD_IUF)
#define RT_WOLFSSL_CHACHA_POLY 1
#endif

namespace ringtunnel::crypto {
namespace {

using detail::note_library_error;
using detail::wipe_object;
using detail::wolf_in;
using detail::wolf_out;
using detail::wolf_size;

}  // namespace

// One context per algorithm, used by seal and open in turn (one thread at a time per key):
// each record runs Init, Update(s) and Final to completion, so nothing carries over.
struct AeadKey::Impl {
  AeadAlgorithm algorithm{};
  // AES-256-GCM: the key schedule and the GHASH table, computed once in create(); per record
  // wc_AesGcmEncryptInit/DecryptInit only set the IV. The stream buffers live inside the
  // struct (no WOLFSSL_SMALL_STACK here), so no call allocates.
  Aes gcm{};
  bool gcm_initialised = false;
  // ChaCha20-Poly1305 has no key schedule to keep: wc_ChaCha20Poly1305_Init derives the
  // per-record state from the key and nonce; Final wipes that state.
  SecureBuffer<kAeadKeySize> chacha_key;
  ChaChaPoly_Aead chacha{};

  Impl() noexcept = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  // wc_AesFree releases what the context may hold; the wipes cover the key schedule, which
  // wc_AesFree leaves in place, and any state an unfinished record left behind.
  ~Impl() {
    if (gcm_initialised) wc_AesFree(&gcm);
    wipe_object(gcm);
    wipe_object(chacha);
  }
};

bool aead_supported(AeadAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case AeadAlgorithm::aes_256_gcm:
#ifdef RT_WOLFSSL_AES_GCM
      return true;
#else
      return false;
#endif
    case AeadAlgorithm::chacha20_poly1305:
#ifdef RT_WOLFSSL_CHACHA_POLY
      return true;
#else
      return false;
#endif
  }
  return false;  // a value read off the wire that names no algorithm
}

Result<AeadKey> AeadKey::create(AeadAlgorithm algorithm, std::span<const std::byte> key) {
  if (key.size() != kAeadKeySize) return errno_code(EINVAL);
  if (!aead_supported(algorithm)) return errno_code(EOPNOTSUPP);
  std::unique_ptr<Impl> impl(new (std::nothrow) Impl);
  if (!impl) return errno_code(ENOMEM);
  impl->algorithm = algorithm;
  if (algorithm == AeadAlgorithm::chacha20_poly1305) {
    impl->chacha_key = SecureBuffer<kAeadKeySize>(key.first<kAeadKeySize>());
    return AeadKey(std::move(impl));
  }
#ifdef RT_WOLFSSL_AES_GCM
  if (note_library_error(wc_AesInit(&impl->gcm, nullptr, INVALID_DEVID)) != 0) {
    return errno_code(ENOTRECOVERABLE);
  }
  impl->gcm_initialised = true;
  if (note_library_error(wc_AesGcmSetKey(&impl->gcm, wolf_in(key), wolf_size(key))) != 0) {
    return errno_code(ENOTRECOVERABLE);
  }
#endif
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

namespace {

#ifdef RT_WOLFSSL_AES_GCM
// The pieces through the streaming API: AAD first, then each piece where it lies; wolfCrypt
// carries partial blocks between updates.
int gcm_seal(Aes& gcm, std::span<const std::byte, kAeadNonceSize> nonce,
             std::span<const std::byte> aad, std::span<const std::span<const std::byte>> pieces,
             std::span<std::byte> out, std::span<std::byte, kAeadTagSize> tag) noexcept {
  int ret = wc_AesGcmEncryptInit(&gcm, nullptr, 0, wolf_in(nonce), wolf_size(nonce));
  if (ret == 0 && !aad.empty()) {
    ret = wc_AesGcmEncryptUpdate(&gcm, nullptr, nullptr, 0, wolf_in(aad), wolf_size(aad));
  }
  std::size_t done = 0;
  for (const auto piece : pieces) {
    if (ret != 0) break;
    if (piece.empty()) continue;
    ret = wc_AesGcmEncryptUpdate(&gcm, wolf_out(out.subspan(done, piece.size())), wolf_in(piece),
                                 wolf_size(piece), nullptr, 0);
    done += piece.size();
  }
  if (ret == 0) ret = wc_AesGcmEncryptFinal(&gcm, wolf_out(tag), kAeadTagSize);
  return ret;
}

int gcm_open(Aes& gcm, std::span<const std::byte, kAeadNonceSize> nonce,
             std::span<const std::byte> aad, std::span<const std::byte> ciphertext,
             std::span<const std::byte, kAeadTagSize> tag, std::span<std::byte> out) noexcept {
  int ret = wc_AesGcmDecryptInit(&gcm, nullptr, 0, wolf_in(nonce), wolf_size(nonce));
  if (ret == 0 && (!aad.empty() || !ciphertext.empty())) {
    ret = wc_AesGcmDecryptUpdate(&gcm, wolf_out(out), wolf_in(ciphertext), wolf_size(ciphertext),
                                 wolf_in(aad), wolf_size(aad));
  }
  // Compares the tags in constant time: AES_GCM_AUTH_E when they differ.
  if (ret == 0) ret = wc_AesGcmDecryptFinal(&gcm, wolf_in(tag), kAeadTagSize);
  return ret;
}
#endif

#ifdef RT_WOLFSSL_CHACHA_POLY
int chacha_seal(ChaChaPoly_Aead& state, std::span<const std::byte, kAeadKeySize> key,
                std::span<const std::byte, kAeadNonceSize> nonce, std::span<const std::byte> aad,
                std::span<const std::span<const std::byte>> pieces, std::span<std::byte> out,
                std::span<std::byte, kAeadTagSize> tag) noexcept {
  int ret = wc_ChaCha20Poly1305_Init(&state, wolf_in(key), wolf_in(nonce), CHACHA20_POLY1305_AEAD_ENCRYPT);
  if (ret == 0) ret = wc_ChaCha20Poly1305_UpdateAad(&state, wolf_in(aad), wolf_size(aad));
  std::size_t done = 0;
  for (const auto piece : pieces) {
    if (ret != 0) break;
    if (piece.empty()) continue;
    ret = wc_ChaCha20Poly1305_UpdateData(&state, wolf_in(piece),
                                         wolf_out(out.subspan(done, piece.size())),
                                         wolf_size(piece));
    done += piece.size();
  }
  // Final refuses a state that never saw data or AAD: an empty record passes through a
  // zero-length update first.
  if (ret == 0 && done == 0) ret = wc_ChaCha20Poly1305_UpdateData(&state, wolf_in({}), wolf_out({}), 0);
  if (ret == 0) ret = wc_ChaCha20Poly1305_Final(&state, wolf_out(tag));
  return ret;
}

int chacha_open(ChaChaPoly_Aead& state, std::span<const std::byte, kAeadKeySize> key,
                std::span<const std::byte, kAeadNonceSize> nonce, std::span<const std::byte> aad,
                std::span<const std::byte> ciphertext, std::span<const std::byte, kAeadTagSize> tag,
                std::span<std::byte> out) noexcept {
  std::array<std::byte, kAeadTagSize> computed{};
  int ret = wc_ChaCha20Poly1305_Init(&state, wolf_in(key), wolf_in(nonce), CHACHA20_POLY1305_AEAD_DECRYPT);
  if (ret == 0) ret = wc_ChaCha20Poly1305_UpdateAad(&state, wolf_in(aad), wolf_size(aad));
  // Poly1305 reads each block of ciphertext before ChaCha20 overwrites it: in place is fine.
  if (ret == 0) {
    ret = wc_ChaCha20Poly1305_UpdateData(&state, wolf_in(ciphertext), wolf_out(out),
                                         wolf_size(ciphertext));
  }
  if (ret == 0) ret = wc_ChaCha20Poly1305_Final(&state, wolf_out(computed));
  // Constant time: MAC_CMP_FAILED_E when the tags differ.
  if (ret == 0) ret = wc_ChaCha20Poly1305_CheckTag(wolf_in(tag), wolf_in(computed));
  return ret;
}
#endif

}  // namespace

Result<std::size_t> AeadKey::seal_pieces(std::span<const std::byte, kAeadNonceSize> nonce,
                                         std::span<const std::byte> aad,
                                         std::span<const std::span<const std::byte>> pieces,
                                         std::size_t size, std::span<std::byte> out) noexcept {
  RT_ASSERT(impl_ != nullptr);  // use after move
  const std::span<std::byte> ciphertext = out.first(size);
  const std::span<std::byte, kAeadTagSize> tag = out.subspan(size).first<kAeadTagSize>();
  int ret = NOT_COMPILED_IN;
  switch (impl_->algorithm) {
    case AeadAlgorithm::aes_256_gcm:
#ifdef RT_WOLFSSL_AES_GCM
      ret = gcm_seal(impl_->gcm, nonce, aad, pieces, ciphertext, tag);
#endif
      break;
    case AeadAlgorithm::chacha20_poly1305:
#ifdef RT_WOLFSSL_CHACHA_POLY
      ret = chacha_seal(impl_->chacha, impl_->chacha_key.span(), nonce, aad, pieces, ciphertext,
                        tag);
#endif
      break;
  }
  if (ret != 0) {
    note_library_error(ret);
    wipe_object(impl_->chacha);  // Final did not run: the per-record state is still there
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
  int ret = NOT_COMPILED_IN;
  switch (impl_->algorithm) {
    case AeadAlgorithm::aes_256_gcm:
#ifdef RT_WOLFSSL_AES_GCM
      ret = gcm_open(impl_->gcm, nonce, aad, ciphertext, tag, out);
#endif
      break;
    case AeadAlgorithm::chacha20_poly1305:
#ifdef RT_WOLFSSL_CHACHA_POLY
      ret = chacha_open(impl_->chacha, impl_->chacha_key.span(), nonce, aad, ciphertext, tag, out);
#endif
      break;
  }
  if (ret != 0) {
    // Unauthenticated plaintext must not survive for anyone to act on.
    secure_wipe(out);
    wipe_object(impl_->chacha);
    return errno_code(EBADMSG);
  }
  return ciphertext.size();
}

}  // namespace ringtunnel::crypto
