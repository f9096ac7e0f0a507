// SPDX-License-Identifier: MIT
// fingerprint over sha256 and standard base64, padding stripped.
#include "crypto/fingerprint.hpp"

#include "crypto/base64.hpp"
#include "crypto/hash.hpp"

namespace ringtunnel::crypto {

std::string fingerprint(std::span<const std::byte, 32> public_key) {
  // 32 bytes encode to 44 base64 characters, the last one '='.
  std::string result = "SHA256:" + detail::base64_encode(sha256(public_key));
  while (result.back() == '=') result.pop_back();
  return result;
}

}  // namespace ringtunnel::crypto
