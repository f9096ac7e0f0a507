// SPDX-License-Identifier: MIT
// fingerprint over sha256 and EVP_EncodeBlock (standard base64), padding stripped.
#include "crypto/fingerprint.hpp"

#include <openssl/evp.h>

#include <array>

#include "crypto/hash.hpp"
#include "runtime/assert.hpp"

namespace ringtunnel::crypto {

std::string fingerprint(std::span<const std::byte, 32> public_key) {
  const Sha256Digest digest = sha256(public_key);
  // 32 bytes encode to 44 base64 characters (the last one '=') plus the NUL it writes.
  std::array<unsigned char, 4 * ((kSha256Size + 2) / 3) + 1> text{};
  const int length = EVP_EncodeBlock(
      text.data(), reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
  RT_ASSERT(length == static_cast<int>(text.size()) - 1);
  std::string result = "SHA256:";
  result.append(reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(length));
  while (!result.empty() && result.back() == '=') result.pop_back();
  return result;
}

}  // namespace ringtunnel::crypto
