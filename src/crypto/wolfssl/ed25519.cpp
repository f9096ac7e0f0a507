// SPDX-License-Identifier: MIT
// Ed25519 signing and verification over wolfCrypt's ed25519_key (pure Ed25519, RFC 8032).
#include "crypto/ed25519.hpp"
#include "crypto/wolfssl/ed25519_key.hpp"

#include "crypto/library_error.hpp"
#include "crypto/random.hpp"
#include "runtime/assert.hpp"

namespace ringtunnel::crypto {
namespace {

using detail::note_library_error;
using detail::wolf_in;
using detail::wolf_out;
using detail::wolf_size;
using detail::WolfEd25519Key;

// The key's wolfCrypt object; an Ed25519 key that cannot even be set up ends the process.
ed25519_key* ready(WolfEd25519Key& key) noexcept {
  if (key.get() == nullptr) detail::library_failure("Ed25519 key setup failed");
  return key.get();
}

// Imports the seed and its public key, which wolfCrypt's signer needs beside the seed.
void import_seed(WolfEd25519Key& key, std::span<const std::byte, kEd25519SeedSize> seed,
                 Ed25519PublicKey& public_key) noexcept {
  ready(key);
  if (key.import_seed(seed, public_key) != 0) {
    detail::library_failure("Ed25519 private key import failed");
  }
}

}  // namespace

Ed25519PrivateKey Ed25519PrivateKey::generate() noexcept {
  SecureBuffer<kEd25519SeedSize> seed;
  random_bytes(seed.span());
  return from_seed(seed.span());
}

Ed25519PrivateKey Ed25519PrivateKey::from_seed(
    std::span<const std::byte, kEd25519SeedSize> seed) noexcept {
  WolfEd25519Key key;
  Ed25519PublicKey public_key;
  import_seed(key, seed, public_key);
  return Ed25519PrivateKey(seed, public_key);
}

Ed25519Signature Ed25519PrivateKey::sign(std::span<const std::byte> message) const noexcept {
  RT_ASSERT(message.size() <= UINT32_MAX);  // wolfCrypt counts in word32; handshakes are small
  WolfEd25519Key key;
  Ed25519PublicKey public_key;
  import_seed(key, seed_.span(), public_key);
  Ed25519Signature signature;
  word32 length = wolf_size(signature);
  if (note_library_error(wc_ed25519_sign_msg(wolf_in(message), wolf_size(message),
                                             wolf_out(signature), &length, ready(key))) != 0 ||
      length != signature.size()) {
    detail::library_failure("Ed25519 signing failed");
  }
  return signature;
}

bool ed25519_verify(std::span<const std::byte, kEd25519PublicKeySize> public_key,
                    std::span<const std::byte> message,
                    std::span<const std::byte, kEd25519SignatureSize> signature) noexcept {
  if (message.size() > UINT32_MAX) return false;  // wolfCrypt counts in word32
  WolfEd25519Key key;
  // The import checks that the key decodes to a curve point; a bad signature is a result
  // (res = 0, or an error code for a malformed one), not a library failure.
  int verified = 0;
  return wc_ed25519_import_public(wolf_in(public_key), wolf_size(public_key), ready(key)) == 0 &&
         wc_ed25519_verify_msg(wolf_in(signature), wolf_size(signature), wolf_in(message),
                               wolf_size(message), &verified, key.get()) == 0 &&
         verified == 1;
}

}  // namespace ringtunnel::crypto
