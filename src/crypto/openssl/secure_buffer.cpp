// SPDX-License-Identifier: MIT
// secure_wipe over OPENSSL_cleanse (the one place SecureBuffer touches the crypto library).
#include "crypto/secure_buffer.hpp"

#include <openssl/crypto.h>

namespace ringtunnel::crypto {

void secure_wipe(std::span<std::byte> bytes) noexcept {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

}  // namespace ringtunnel::crypto
