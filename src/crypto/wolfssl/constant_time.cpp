// SPDX-License-Identifier: MIT
// constant_time_equal as wolfCrypt's ConstantCompare does it (that one is WOLFSSL_LOCAL).
#include "crypto/constant_time.hpp"

namespace ringtunnel::crypto {

bool constant_time_equal(std::span<const std::byte> a, std::span<const std::byte> b) noexcept {
  if (a.size() != b.size()) return false;
  // Every byte is read and folded into one difference before it is tested; the volatile reads
  // keep the compiler from turning the loop into an early-exit memcmp.
  const volatile std::byte* x = a.data();
  const volatile std::byte* y = b.data();
  std::byte difference{0};
  for (std::size_t i = 0; i < a.size(); ++i) difference |= x[i] ^ y[i];
  return difference == std::byte{0};
}

}  // namespace ringtunnel::crypto
