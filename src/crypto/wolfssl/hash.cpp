// SPDX-License-Identifier: MIT
// SHA-256, HMAC-SHA256 and HKDF-SHA256 over wolfCrypt (wc_Sha256, wc_Hmac*, wc_HKDF_*).
#include "crypto/hash.hpp"
#include "crypto/wolfssl/wolfcrypt.hpp"
// The wolfSSL headers after wolfcrypt.hpp, which includes their options.h first.
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <algorithm>
#include <climits>

#include "crypto/library_error.hpp"
#include "crypto/secure_buffer.hpp"
#include "runtime/assert.hpp"

namespace ringtunnel::crypto {
namespace {

using detail::note_library_error;
using detail::wipe_object;
using detail::wolf_in;
using detail::wolf_out;
using detail::wolf_size;

// wolfCrypt takes word32 lengths: a larger input goes in chunks of this size.
constexpr std::size_t kChunk = std::size_t{1} << 30;

int sha256_update(wc_Sha256& sha, std::span<const std::byte> data) noexcept {
  int ret = 0;
  while (ret == 0 && !data.empty()) {
    const std::span<const std::byte> chunk = data.first(std::min(data.size(), kChunk));
    ret = wc_Sha256Update(&sha, wolf_in(chunk), wolf_size(chunk));
    data = data.subspan(chunk.size());
  }
  return ret;
}

}  // namespace

Sha256Digest sha256(std::span<const std::byte> data) noexcept {
  wc_Sha256 sha;
  Sha256Digest digest;
  int ret = wc_InitSha256(&sha);
  if (ret == 0) ret = sha256_update(sha, data);
  if (ret == 0) ret = wc_Sha256Final(&sha, wolf_out(digest));
  wc_Sha256Free(&sha);
  wipe_object(sha);  // the message may be secret; EVP_MD_CTX_free cleanses too
  if (note_library_error(ret) != 0) detail::library_failure("SHA-256 digest failed");
  return digest;
}

struct Sha256::Impl {
  wc_Sha256 sha{};

  Impl() noexcept {
    if (note_library_error(wc_InitSha256(&sha)) != 0) {
      detail::library_failure("SHA-256 context setup failed");
    }
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    wc_Sha256Free(&sha);
    wipe_object(sha);
  }
};

Sha256::Sha256() noexcept : impl_(std::make_unique<Impl>()) {}
Sha256::Sha256(Sha256&& other) noexcept = default;
Sha256& Sha256::operator=(Sha256&& other) noexcept = default;
Sha256::~Sha256() = default;

void Sha256::update(std::span<const std::byte> data) noexcept {
  RT_ASSERT(impl_ != nullptr);  // use after move
  if (note_library_error(sha256_update(impl_->sha, data)) != 0) {
    detail::library_failure("SHA-256 update failed");
  }
}

Sha256Digest Sha256::finish() noexcept {
  RT_ASSERT(impl_ != nullptr);  // use after move
  Sha256Digest digest;
  // wc_Sha256Final re-initialises the context for the next message.
  if (note_library_error(wc_Sha256Final(&impl_->sha, wolf_out(digest))) != 0) {
    detail::library_failure("SHA-256 finish failed");
  }
  return digest;
}

Sha256Digest hmac_sha256(std::span<const std::byte> key, std::span<const std::byte> data) noexcept {
  RT_ASSERT(key.size() <= INT_MAX);
  Hmac hmac;
  Sha256Digest mac;
  int ret = wc_HmacInit(&hmac, nullptr, INVALID_DEVID);
  if (ret == 0) ret = wc_HmacSetKey(&hmac, WC_SHA256, wolf_in(key), wolf_size(key));
  while (ret == 0 && !data.empty()) {
    const std::span<const std::byte> chunk = data.first(std::min(data.size(), kChunk));
    ret = wc_HmacUpdate(&hmac, wolf_in(chunk), wolf_size(chunk));
    data = data.subspan(chunk.size());
  }
  if (ret == 0) ret = wc_HmacFinal(&hmac, wolf_out(mac));
  wc_HmacFree(&hmac);
  wipe_object(hmac);  // the inner and outer pads are derived from the key
  if (note_library_error(ret) != 0) detail::library_failure("HMAC-SHA256 failed");
  return mac;
}

Sha256Digest hkdf_extract(std::span<const std::byte> salt,
                          std::span<const std::byte> ikm) noexcept {
  RT_ASSERT(salt.size() <= INT_MAX && ikm.size() <= INT_MAX);
  // wc_HKDF_Extract uses HashLen zero bytes for an empty salt, as RFC 5869 §2.2 says.
  Sha256Digest prk;
  if (note_library_error(wc_HKDF_Extract(WC_SHA256, wolf_in(salt), wolf_size(salt), wolf_in(ikm),
                                         wolf_size(ikm), wolf_out(prk))) != 0) {
    detail::library_failure("HKDF-Extract failed");
  }
  return prk;
}

void hkdf_expand(std::span<const std::byte> prk, std::span<const std::byte> info,
                 std::span<std::byte> out) noexcept {
  RT_ASSERT(out.size() <= kHkdfMaxOutput);
  RT_ASSERT(info.size() <= kHkdfMaxInfo);
  RT_ASSERT(!prk.empty() && prk.size() <= INT_MAX);
  if (out.empty()) return;
  if (note_library_error(wc_HKDF_Expand(WC_SHA256, wolf_in(prk), wolf_size(prk), wolf_in(info),
                                        wolf_size(info), wolf_out(out),
                                        static_cast<word32>(out.size()))) != 0) {
    detail::library_failure("HKDF-Expand failed");
  }
}

}  // namespace ringtunnel::crypto
