// SPDX-License-Identifier: MIT
// X25519KeyPair and x25519_generate; the curve arithmetic is in <backend>/x25519.cpp.
#include "crypto/x25519.hpp"

#include "crypto/random.hpp"
#include "crypto/secure_buffer.hpp"

namespace ringtunnel::crypto {

X25519KeyPair::X25519KeyPair(X25519KeyPair&& other) noexcept
    : private_key(other.private_key), public_key(other.public_key) {
  other.wipe();
}

X25519KeyPair& X25519KeyPair::operator=(X25519KeyPair&& other) noexcept {
  if (this != &other) {
    private_key = other.private_key;
    public_key = other.public_key;
    other.wipe();
  }
  return *this;
}

X25519KeyPair::~X25519KeyPair() { wipe(); }

void X25519KeyPair::wipe() noexcept {
  secure_wipe(private_key);
  secure_wipe(public_key);
}

X25519KeyPair x25519_generate() noexcept {
  // Any 32 random bytes are a valid X25519 private key: the scalar is clamped when used.
  X25519KeyPair pair;
  random_bytes(pair.private_key);
  pair.public_key = x25519_public_key(pair.private_key);
  return pair;
}

}  // namespace ringtunnel::crypto
