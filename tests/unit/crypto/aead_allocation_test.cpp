// SPDX-License-Identifier: MIT
// Checks that AeadKey::seal/seal_gather/open allocate nothing per record (the crypto library's allocations
// counted: OpenSSL's or wolfSSL's).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <vector>

#include "allocation_counter.hpp"
#include "crypto/aead.hpp"

using namespace ringtunnel::crypto;
namespace testing = ringtunnel::testing;

TEST_CASE("seal, seal_gather and open allocate nothing per record", "[crypto][aead][allocation]") {
  if (!testing::library_hooks_installed()) {
    WARN(testing::crypto_library_name()
         << " allocated before the counting hooks could be installed; not checked");
    return;
  }
  for (AeadAlgorithm algorithm : {AeadAlgorithm::aes_256_gcm, AeadAlgorithm::chacha20_poly1305}) {
    auto created = AeadKey::create(algorithm, std::vector<std::byte>(kAeadKeySize, std::byte{3}));
    REQUIRE(created.ok());
    REQUIRE(testing::library_allocations() > 0);  // the hooks do see the library's allocations
    AeadKey key = std::move(created).value();
    std::vector<std::byte> record(16384 + kAeadTagSize, std::byte{0x5a});
    const std::array<std::byte, 4> aad{std::byte{0}, std::byte{0}, std::byte{0x40},
                                       std::byte{0x10}};
    const auto plaintext = std::span(record).first(16384);
    // A gathered record: a frame header and a payload sealed where they lie.
    const std::vector<std::byte> header(10, std::byte{0x11});
    const std::vector<std::byte> payload(4093, std::byte{0x22});
    const std::span<const std::byte> pieces[] = {header, payload};
    std::vector<std::byte> gathered(header.size() + payload.size() + kAeadTagSize);
    // One warm-up record per direction, then none may allocate.
    REQUIRE(key.seal(0, aad, plaintext, record).ok());
    REQUIRE(key.open(0, aad, record, record).ok());
    const std::size_t before = testing::library_allocations();
    for (std::uint64_t counter = 1; counter <= 100; ++counter) {
      REQUIRE(key.seal(counter, aad, plaintext, record).ok());
      REQUIRE(key.open(counter, aad, record, record).ok());
      REQUIRE(key.seal_gather(counter + 1000, aad, pieces, gathered).ok());
      REQUIRE(key.open(counter + 1000, aad, gathered, gathered).ok());
    }
    record[5] ^= std::byte{1};
    CHECK_FALSE(key.open(100, aad, record, record).ok());  // the failure path too
    CHECK(testing::library_allocations() == before);
  }
}
