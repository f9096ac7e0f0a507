// SPDX-License-Identifier: MIT
// constant_time_equal over CRYPTO_memcmp.
#include "crypto/constant_time.hpp"

#include <openssl/crypto.h>

namespace ringtunnel::crypto {

bool constant_time_equal(std::span<const std::byte> a, std::span<const std::byte> b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ringtunnel::crypto
