// SPDX-License-Identifier: MIT
// Internal to the wolfSSL backend (src/crypto/wolfssl, src/crypto/tls/wolfssl): wolfSSL's build
// options first, byte views, error recording, and the few helpers its files share.
#pragma once

// Before any other wolfSSL header: the layouts of Aes, WC_RNG and the key structs depend on the
// options the library was configured with, which only options.h carries.
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>

#include "crypto/secure_buffer.hpp"

namespace ringtunnel::crypto::detail {

/// Records `code` (a wolfCrypt error, negative) as this thread's latest library error, which
/// take_library_error() and library_failure() then report: wolfCrypt returns its errors
/// instead of queueing them as OpenSSL does. Zero (success) is not recorded. Returns `code`.
int note_library_error(int code) noexcept;

/// `data` as wolfCrypt's byte pointer, never null: several wolfCrypt entry points refuse a null
/// pointer even with a zero length, so an empty span yields the address of a constant.
inline const byte* wolf_in(std::span<const std::byte> data) noexcept {
  static constexpr byte kEmpty = 0;
  return data.empty() ? &kEmpty : reinterpret_cast<const byte*>(data.data());
}

/// `data` as a writable wolfCrypt byte pointer; for an empty span one that is never written
/// through (a zero-length output), again never null.
inline byte* wolf_out(std::span<std::byte> data) noexcept {
  static byte unused = 0;
  return data.empty() ? &unused : reinterpret_cast<byte*>(data.data());
}

/// A length wolfCrypt takes (word32). Callers check their limits first (kAeadMaxInput,
/// kHkdfMaxInfo ...); longer spans are fed in chunks where a call could see one.
inline word32 wolf_size(std::span<const std::byte> data) noexcept {
  return static_cast<word32>(data.size());
}

/// Zeroes a wolfCrypt struct (a key schedule, a hash or AEAD state) where its free function
/// leaves the secret parts in place.
template <typename T>
void wipe_object(T& object) noexcept {
  secure_wipe(std::as_writable_bytes(std::span(&object, 1)));
}

/// Writes all of `bytes` to the blocking `fd` (a PEM file being made); 0 or the errno.
inline int write_all(int fd, std::span<const std::byte> bytes) noexcept {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return 0;
}

}  // namespace ringtunnel::crypto::detail
