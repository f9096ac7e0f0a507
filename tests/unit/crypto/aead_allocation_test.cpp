// SPDX-License-Identifier: MIT
// Checks that AeadKey::seal/open allocate nothing per record (OpenSSL allocations counted).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <vector>

#include "allocation_counter.hpp"
#include "crypto/aead.hpp"

using namespace ringtunnel::crypto;
namespace testing = ringtunnel::testing;

TEST_CASE("seal and open allocate nothing per record", "[crypto][aead][allocation]") {
  if (!testing::openssl_hooks_installed()) {
    WARN("OpenSSL allocated before the counting hooks could be installed; not checked");
    return;
  }
  for (AeadAlgorithm algorithm : {AeadAlgorithm::aes_256_gcm, AeadAlgorithm::chacha20_poly1305}) {
    auto created = AeadKey::create(algorithm, std::vector<std::byte>(kAeadKeySize, std::byte{3}));
    REQUIRE(created.ok());
    REQUIRE(testing::openssl_allocations() > 0);  // the hooks do see OpenSSL's allocations
    AeadKey key = std::move(created).value();
    std::vector<std::byte> record(16384 + kAeadTagSize, std::byte{0x5a});
    const std::array<std::byte, 4> aad{std::byte{0}, std::byte{0}, std::byte{0x40},
                                       std::byte{0x10}};
    const auto plaintext = std::span(record).first(16384);
    // One warm-up record per direction, then none may allocate.
    REQUIRE(key.seal(0, aad, plaintext, record).ok());
    REQUIRE(key.open(0, aad, record, record).ok());
    const std::size_t before = testing::openssl_allocations();
    for (std::uint64_t counter = 1; counter <= 100; ++counter) {
      REQUIRE(key.seal(counter, aad, plaintext, record).ok());
      REQUIRE(key.open(counter, aad, record, record).ok());
    }
    record[5] ^= std::byte{1};
    CHECK_FALSE(key.open(100, aad, record, record).ok());  // the failure path too
    CHECK(testing::openssl_allocations() == before);
  }
}
