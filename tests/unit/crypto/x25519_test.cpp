// SPDX-License-Identifier: MIT
// Tests for crypto x25519.hpp: RFC 7748 §5.2 and §6.1 vectors, small-order rejection.
#include "crypto/x25519.hpp"

#include <catch2/catch.hpp>

#include "hex.hpp"

using namespace ringtunnel::crypto;
using testing::array_from_hex;
using testing::to_hex;

namespace {
using Key = std::array<std::byte, kX25519KeySize>;
}

TEST_CASE("x25519 matches RFC 7748 section 5.2", "[crypto][x25519]") {
  const auto first = x25519_shared(
      array_from_hex<32>("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
      array_from_hex<32>("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"));
  REQUIRE(first.ok());
  CHECK(to_hex(*first) == "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");

  // The u-coordinate has its top bit set, which RFC 7748 requires implementations to mask.
  const auto second = x25519_shared(
      array_from_hex<32>("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
      array_from_hex<32>("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"));
  REQUIRE(second.ok());
  CHECK(to_hex(*second) == "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");

  // The iterated test after one iteration: k = u = 9.
  Key nine{};
  nine[0] = std::byte{9};
  const auto iterated = x25519_shared(nine, nine);
  REQUIRE(iterated.ok());
  CHECK(to_hex(*iterated) == "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
}

TEST_CASE("x25519 matches the RFC 7748 section 6.1 exchange", "[crypto][x25519]") {
  const auto alice_private =
      array_from_hex<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const auto bob_private =
      array_from_hex<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const Key alice_public = x25519_public_key(alice_private);
  const Key bob_public = x25519_public_key(bob_private);
  CHECK(to_hex(alice_public) == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  CHECK(to_hex(bob_public) == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const auto alice_shared = x25519_shared(alice_private, bob_public);
  const auto bob_shared = x25519_shared(bob_private, alice_public);
  REQUIRE(alice_shared.ok());
  REQUIRE(bob_shared.ok());
  CHECK(to_hex(*alice_shared) ==
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  CHECK(*alice_shared == *bob_shared);
}

TEST_CASE("x25519_generate gives working, distinct key pairs", "[crypto][x25519]") {
  const X25519KeyPair a = x25519_generate();
  const X25519KeyPair b = x25519_generate();
  CHECK(a.private_key != b.private_key);
  CHECK(a.public_key == x25519_public_key(a.private_key));
  const auto ab = x25519_shared(a.private_key, b.public_key);
  const auto ba = x25519_shared(b.private_key, a.public_key);
  REQUIRE(ab.ok());
  REQUIRE(ba.ok());
  CHECK(*ab == *ba);
}

TEST_CASE("x25519_shared rejects small-order peer keys", "[crypto][x25519]") {
  const X25519KeyPair own = x25519_generate();
  // u = 0 and u = 1 (points of order 4 and 1) and the order-8 point from the libsodium
  // blocklist: each makes the shared secret all zero.
  const Key zero{};
  Key one{};
  one[0] = std::byte{1};
  const Key order8 =
      array_from_hex<32>("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
  for (const Key& peer : {zero, one, order8}) {
    const auto shared = x25519_shared(own.private_key, peer);
    REQUIRE_FALSE(shared.ok());
    CHECK(shared.error() == x25519_small_order_error());
  }
}

TEST_CASE("X25519KeyPair moves wipe the source", "[crypto][x25519]") {
  X25519KeyPair source = x25519_generate();
  const Key private_copy = source.private_key;
  X25519KeyPair target = std::move(source);
  CHECK(target.private_key == private_copy);
  CHECK(source.private_key == Key{});  // NOLINT(bugprone-use-after-move): checking the wipe
}
