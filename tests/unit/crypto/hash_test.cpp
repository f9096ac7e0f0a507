// SPDX-License-Identifier: MIT
// Tests for crypto hash.hpp: SHA-256 (FIPS 180-2), HMAC (RFC 4231), HKDF (RFC 5869).
#include "crypto/hash.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "hex.hpp"

using namespace ringtunnel::crypto;
using testing::bytes_of;
using testing::from_hex;
using testing::to_hex;

TEST_CASE("sha256 matches FIPS 180-2 vectors", "[crypto][hash]") {
  CHECK(to_hex(sha256({})) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(sha256(bytes_of("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("Sha256 incremental equals one-shot and resets after finish", "[crypto][hash]") {
  const std::string text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  Sha256 hasher;
  hasher.update(bytes_of(text.substr(0, 5)));
  hasher.update({});
  hasher.update(bytes_of(text.substr(5)));
  CHECK(to_hex(hasher.finish()) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  hasher.update(bytes_of("abc"));
  CHECK(hasher.finish() == sha256(bytes_of("abc")));

  Sha256 moved = std::move(hasher);
  CHECK(moved.finish() == sha256({}));
}

TEST_CASE("hmac_sha256 matches RFC 4231 test case 2", "[crypto][hash]") {
  CHECK(to_hex(hmac_sha256(bytes_of("Jefe"), bytes_of("what do ya want for nothing?"))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("hkdf matches RFC 5869 test case 1", "[crypto][hash][hkdf]") {
  const auto ikm = from_hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  const auto salt = from_hex("000102030405060708090a0b0c");
  const auto info = from_hex("f0f1f2f3f4f5f6f7f8f9");
  const Sha256Digest prk = hkdf_extract(salt, ikm);
  CHECK(to_hex(prk) == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  std::array<std::byte, 42> okm{};
  hkdf_expand(prk, info, okm);
  CHECK(to_hex(okm) ==
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST_CASE("hkdf matches RFC 5869 test case 3 (empty salt and info)", "[crypto][hash][hkdf]") {
  const auto ikm = from_hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  const Sha256Digest prk = hkdf_extract({}, ikm);
  CHECK(to_hex(prk) == "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
  std::array<std::byte, 42> okm{};
  hkdf_expand(prk, {}, okm);
  CHECK(to_hex(okm) ==
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST_CASE("hkdf_expand output is a prefix of a longer output, up to 255 blocks",
          "[crypto][hash][hkdf]") {
  const Sha256Digest prk = sha256(bytes_of("prk"));
  std::vector<std::byte> longest(kHkdfMaxOutput);
  hkdf_expand(prk, bytes_of("rt1 key"), longest);
  std::array<std::byte, 32> key{};
  hkdf_expand(prk, bytes_of("rt1 key"), key);
  CHECK(std::equal(key.begin(), key.end(), longest.begin()));
  std::array<std::byte, 32> other{};
  hkdf_expand(prk, bytes_of("rt1 update"), other);
  CHECK(other != key);
  hkdf_expand(prk, bytes_of("x"), {});  // empty output: a no-op
}
