// SPDX-License-Identifier: MIT
// Tests for crypto ed25519.hpp signing: RFC 8032 §7.1 TEST 1 and 2, verify rejections.
#include "crypto/ed25519.hpp"

#include <catch2/catch.hpp>

#include "hex.hpp"

using namespace ringtunnel::crypto;
using testing::array_from_hex;
using testing::from_hex;
using testing::to_hex;

namespace {

struct Rfc8032Vector {
  const char* name;
  const char* seed;
  const char* public_key;
  const char* message;
  const char* signature;
};

constexpr Rfc8032Vector kVectors[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

}  // namespace

TEST_CASE("Ed25519 matches RFC 8032 section 7.1", "[crypto][ed25519]") {
  for (const Rfc8032Vector& vector : kVectors) {
    SECTION(vector.name) {
      const auto key = Ed25519PrivateKey::from_seed(array_from_hex<32>(vector.seed));
      CHECK(to_hex(key.public_key()) == vector.public_key);
      const auto message = from_hex(vector.message);
      const Ed25519Signature signature = key.sign(message);
      CHECK(to_hex(signature) == vector.signature);
      CHECK(ed25519_verify(key.public_key(), message, signature));
    }
  }
}

TEST_CASE("ed25519_verify rejects modified messages, signatures and keys", "[crypto][ed25519]") {
  const auto key = Ed25519PrivateKey::from_seed(array_from_hex<32>(kVectors[1].seed));
  const auto message = from_hex(kVectors[1].message);
  const Ed25519Signature signature = array_from_hex<64>(kVectors[1].signature);
  REQUIRE(ed25519_verify(key.public_key(), message, signature));

  auto other_message = message;
  other_message[0] ^= std::byte{0x01};
  CHECK_FALSE(ed25519_verify(key.public_key(), other_message, signature));
  CHECK_FALSE(ed25519_verify(key.public_key(), {}, signature));

  for (std::size_t index : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{63}}) {
    Ed25519Signature bad = signature;
    bad[index] ^= std::byte{0x40};
    CHECK_FALSE(ed25519_verify(key.public_key(), message, bad));
  }
  const Ed25519PublicKey other_key = array_from_hex<32>(kVectors[0].public_key);
  CHECK_FALSE(ed25519_verify(other_key, message, signature));
  CHECK_FALSE(ed25519_verify(Ed25519PublicKey{}, message, signature));
}

TEST_CASE("Ed25519PrivateKey::generate signs and verifies", "[crypto][ed25519]") {
  const auto a = Ed25519PrivateKey::generate();
  const auto b = Ed25519PrivateKey::generate();
  CHECK(a.public_key() != b.public_key());
  const auto message = testing::bytes_of("ringtunnel v1 server");
  CHECK(ed25519_verify(a.public_key(), message, a.sign(message)));
  CHECK_FALSE(ed25519_verify(b.public_key(), message, a.sign(message)));
  Ed25519PrivateKey moved = Ed25519PrivateKey::generate();
  moved = Ed25519PrivateKey::from_seed(array_from_hex<32>(kVectors[0].seed));
  CHECK(to_hex(moved.public_key()) == kVectors[0].public_key);
}
