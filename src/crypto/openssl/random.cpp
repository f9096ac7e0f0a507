// SPDX-License-Identifier: MIT
// random_bytes over RAND_bytes; a failing generator stops the process.
#include "crypto/random.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>

#include "crypto/library_error.hpp"

namespace ringtunnel::crypto {

void random_bytes(std::span<std::byte> out) noexcept {
  // RAND_bytes takes an int length: feed larger requests in chunks.
  while (!out.empty()) {
    const std::size_t chunk = std::min<std::size_t>(out.size(), INT_MAX);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(chunk)) != 1) {
      detail::library_failure("RAND_bytes failed: no secure randomness, refusing to continue");
    }
    out = out.subspan(chunk);
  }
}

}  // namespace ringtunnel::crypto
