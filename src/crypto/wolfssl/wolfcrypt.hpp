// SPDX-License-Identifier: MIT
// Internal to src/crypto/wolfssl: wolfSSL's build options first, byte views, error recording.
#pragma once

// Before any other wolfSSL header: the layouts of Aes, WC_RNG and the key structs depend on the
// options the library was configured with, which only options.h carries.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

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

}  // namespace ringtunnel::crypto::detail
