// SPDX-License-Identifier: MIT
// secure_wipe over explicit_bzero: wolfCrypt keeps its ForceZero internal (WOLFSSL_LOCAL).
#include "crypto/secure_buffer.hpp"

#include <string.h>

namespace ringtunnel::crypto {

void secure_wipe(std::span<std::byte> bytes) noexcept {
  // glibc guarantees that explicit_bzero is never optimised away, like OPENSSL_cleanse.
  if (!bytes.empty()) ::explicit_bzero(bytes.data(), bytes.size());
}

}  // namespace ringtunnel::crypto
