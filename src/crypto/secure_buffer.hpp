// SPDX-License-Identifier: MIT
// SecureBuffer<N>: a fixed-size byte array for secrets that wipes itself when destroyed.
#pragma once

#include <array>
#include <cstddef>
#include <span>

namespace ringtunnel::crypto {

/// Overwrites `bytes` with zeros in a way the compiler may not elide (OPENSSL_cleanse, or
/// explicit_bzero in the wolfSSL build).
/// Use it on every copy of a secret that does not live in a SecureBuffer. Any thread.
void secure_wipe(std::span<std::byte> bytes) noexcept;

/// N bytes of secret material (keys, seeds, shared secrets) that are wiped on destruction.
///
/// Lifetime: a value; the bytes live inside the object (no heap). Not copyable, so a secret is
/// never duplicated by accident; moving copies the bytes and wipes the source at once.
/// Threads: no synchronisation, like any value.
template <std::size_t N>
class SecureBuffer {
 public:
  /// N zero bytes.
  SecureBuffer() noexcept = default;
  /// A copy of `bytes`; the caller stays responsible for wiping its own copy.
  explicit SecureBuffer(std::span<const std::byte, N> bytes) noexcept {
    for (std::size_t i = 0; i < N; ++i) bytes_[i] = bytes[i];
  }
  /// Moves copy the bytes and wipe the source at once. Not copyable.
  SecureBuffer(SecureBuffer&& other) noexcept : bytes_(other.bytes_) { other.wipe(); }
  SecureBuffer& operator=(SecureBuffer&& other) noexcept {
    if (this != &other) {
      bytes_ = other.bytes_;
      other.wipe();
    }
    return *this;
  }
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;
  /// Wipes the bytes.
  ~SecureBuffer() { wipe(); }

  /// Sets every byte to zero (also done by the destructor).
  void wipe() noexcept { secure_wipe(bytes_); }

  /// The bytes, valid while this object lives.
  std::span<std::byte, N> span() noexcept { return bytes_; }
  /// The bytes, read-only, valid while this object lives.
  std::span<const std::byte, N> span() const noexcept { return bytes_; }
  /// First byte (N contiguous bytes follow), valid while this object lives.
  std::byte* data() noexcept { return bytes_.data(); }
  /// First byte, read-only.
  const std::byte* data() const noexcept { return bytes_.data(); }
  /// Always N.
  static constexpr std::size_t size() noexcept { return N; }

 private:
  std::array<std::byte, N> bytes_{};
};

}  // namespace ringtunnel::crypto
