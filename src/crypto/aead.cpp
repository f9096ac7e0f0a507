// SPDX-License-Identifier: MIT
// AeadKey's backend-neutral half: counter nonces and the argument checks before each cipher run.
#include "crypto/aead.hpp"

#include <array>
#include <climits>
#include <cstdint>
#include <cstring>

namespace ringtunnel::crypto {
namespace {

// protocol.md §2: nonce = 0x00000000 || counter (u64, big-endian).
std::array<std::byte, kAeadNonceSize> counter_nonce(std::uint64_t counter) noexcept {
  std::array<std::byte, kAeadNonceSize> nonce{};
  for (std::size_t i = 0; i < 8; ++i) {
    nonce[kAeadNonceSize - 1 - i] = static_cast<std::byte>(counter >> (8 * i));
  }
  return nonce;
}

// Both libraries handle exact in-place operation but not a shifted overlap (the cipher would
// read bytes it has already overwritten).
bool overlaps_partially(std::span<const std::byte> in, std::span<const std::byte> out) noexcept {
  if (in.empty() || out.empty() || in.data() == out.data()) return false;
  const auto in_begin = reinterpret_cast<std::uintptr_t>(in.data());
  const auto out_begin = reinterpret_cast<std::uintptr_t>(out.data());
  return in_begin < out_begin + out.size() && out_begin < in_begin + in.size();
}

// OpenSSL counts AAD in int, wolfCrypt in word32: the smaller bound holds for both.
bool aad_too_long(std::span<const std::byte> aad) noexcept {
  return aad.size() > INT_MAX;
}

}  // namespace

Result<std::size_t> AeadKey::seal(std::uint64_t counter, std::span<const std::byte> aad,
                                  std::span<const std::byte> plaintext,
                                  std::span<std::byte> out) noexcept {
  return seal_with_nonce(counter_nonce(counter), aad, plaintext, out);
}

Result<std::size_t> AeadKey::open(std::uint64_t counter, std::span<const std::byte> aad,
                                  std::span<const std::byte> ciphertext_and_tag,
                                  std::span<std::byte> out) noexcept {
  return open_with_nonce(counter_nonce(counter), aad, ciphertext_and_tag, out);
}

Result<std::size_t> AeadKey::seal_gather(std::uint64_t counter, std::span<const std::byte> aad,
                                         std::span<const std::span<const std::byte>> pieces,
                                         std::span<std::byte> out) noexcept {
  return seal_gather_with_nonce(counter_nonce(counter), aad, pieces, out);
}

Result<std::size_t> AeadKey::seal_gather_with_nonce(
    std::span<const std::byte, kAeadNonceSize> nonce, std::span<const std::byte> aad,
    std::span<const std::span<const std::byte>> pieces, std::span<std::byte> out) noexcept {
  std::size_t size = 0;
  for (const auto piece : pieces) {
    if (piece.size() > kAeadMaxInput - size) return errno_code(EMSGSIZE);
    size += piece.size();
  }
  if (aad_too_long(aad)) return errno_code(EMSGSIZE);
  if (out.size() < size + kAeadTagSize) return errno_code(EINVAL);
  for (const auto piece : pieces) {
    // A piece may not overlap the ciphertext at all: it could be overwritten before it is read.
    if (!piece.empty() &&
        (piece.data() == out.data() || overlaps_partially(piece, out.first(size)))) {
      return errno_code(EINVAL);
    }
  }
  return seal_pieces(nonce, aad, pieces, size, out);
}

Result<std::size_t> AeadKey::seal_with_nonce(std::span<const std::byte, kAeadNonceSize> nonce,
                                             std::span<const std::byte> aad,
                                             std::span<const std::byte> plaintext,
                                             std::span<std::byte> out) noexcept {
  const std::size_t size = plaintext.size();
  if (size > kAeadMaxInput || aad_too_long(aad)) return errno_code(EMSGSIZE);
  if (out.size() < size + kAeadTagSize || overlaps_partially(plaintext, out.first(size))) {
    return errno_code(EINVAL);
  }
  const std::span<const std::byte> pieces[1] = {plaintext};
  return seal_pieces(nonce, aad, pieces, size, out);
}

Result<std::size_t> AeadKey::open_with_nonce(std::span<const std::byte, kAeadNonceSize> nonce,
                                             std::span<const std::byte> aad,
                                             std::span<const std::byte> ciphertext_and_tag,
                                             std::span<std::byte> out) noexcept {
  if (ciphertext_and_tag.size() < kAeadTagSize) return errno_code(EBADMSG);
  const std::size_t size = ciphertext_and_tag.size() - kAeadTagSize;
  const std::span<const std::byte> ciphertext = ciphertext_and_tag.first(size);
  if (size > kAeadMaxInput || aad_too_long(aad)) return errno_code(EMSGSIZE);
  if (out.size() < size || overlaps_partially(ciphertext, out.first(size))) {
    return errno_code(EINVAL);
  }
  // A copy: opening in place may not overwrite it, and OpenSSL takes the tag non-const.
  std::array<std::byte, kAeadTagSize> tag;
  std::memcpy(tag.data(), ciphertext_and_tag.data() + size, kAeadTagSize);
  return open_ciphertext(nonce, aad, ciphertext, tag, out.first(size));
}

}  // namespace ringtunnel::crypto
