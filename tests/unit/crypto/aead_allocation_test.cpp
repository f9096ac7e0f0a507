// SPDX-License-Identifier: MIT
// Checks that AeadKey::seal/open allocate nothing per record (OpenSSL allocations counted).
#include <openssl/crypto.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <vector>

#include "crypto/aead.hpp"

using namespace ringtunnel::crypto;

namespace {

// Counts every allocation OpenSSL makes. The hooks must be installed before OpenSSL allocates
// anything, so they go in at static-initialisation time; nothing in the test binary touches
// OpenSSL before main. If that ever changes, installation fails and the test says so.
std::size_t g_openssl_allocations = 0;

void* counting_malloc(std::size_t size, const char*, int) {
  ++g_openssl_allocations;
  return std::malloc(size);
}
void* counting_realloc(void* pointer, std::size_t size, const char*, int) {
  ++g_openssl_allocations;
  return std::realloc(pointer, size);
}
void plain_free(void* pointer, const char*, int) {
  std::free(pointer);
}

const bool g_hooks_installed =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, plain_free) == 1;

}  // namespace

TEST_CASE("seal and open allocate nothing per record", "[crypto][aead][allocation]") {
  if (!g_hooks_installed) {
    WARN("OpenSSL allocated before the counting hooks could be installed; not checked");
    return;
  }
  for (AeadAlgorithm algorithm : {AeadAlgorithm::aes_256_gcm, AeadAlgorithm::chacha20_poly1305}) {
    auto created = AeadKey::create(algorithm, std::vector<std::byte>(kAeadKeySize, std::byte{3}));
    REQUIRE(created.ok());
    REQUIRE(g_openssl_allocations > 0);  // the hooks do see OpenSSL's allocations
    AeadKey key = std::move(created).value();
    std::vector<std::byte> record(16384 + kAeadTagSize, std::byte{0x5a});
    const std::array<std::byte, 4> aad{std::byte{0}, std::byte{0}, std::byte{0x40},
                                       std::byte{0x10}};
    const auto plaintext = std::span(record).first(16384);
    // One warm-up record per direction, then none may allocate.
    REQUIRE(key.seal(0, aad, plaintext, record).ok());
    REQUIRE(key.open(0, aad, record, record).ok());
    const std::size_t before = g_openssl_allocations;
    for (std::uint64_t counter = 1; counter <= 100; ++counter) {
      REQUIRE(key.seal(counter, aad, plaintext, record).ok());
      REQUIRE(key.open(counter, aad, record, record).ok());
    }
    record[5] ^= std::byte{1};
    CHECK_FALSE(key.open(100, aad, record, record).ok());  // the failure path too
    CHECK(g_openssl_allocations == before);
  }
}
