// SPDX-License-Identifier: MIT
// The record layer allocates nothing per record: operator new and OpenSSL's allocator counted.
#include <openssl/crypto.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>

#include "tunnel/record_assembler.hpp"
#include "tunnel/record_layer.hpp"
#include "tunnel_test_support.hpp"

namespace {

// Plain counters: the tests run on one thread.
std::size_t g_new_calls = 0;
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

// Installed during static initialisation, before anything in this binary touches OpenSSL.
const bool g_hooks_installed =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, plain_free) == 1;

}  // namespace

// Counting replacements of the global allocation functions (the whole test binary uses them).
void* operator new(std::size_t size) {
  ++g_new_calls;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return ::operator new(size);
}
// The nothrow forms too (crypto::AeadKey uses one), so every plain new pairs with our delete.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++g_new_calls;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return ::operator new(size, tag);
}
void operator delete(void* pointer, const std::nothrow_t&) noexcept {
  std::free(pointer);
}
void operator delete[](void* pointer, const std::nothrow_t&) noexcept {
  std::free(pointer);
}
void operator delete(void* pointer) noexcept {
  std::free(pointer);
}
void operator delete[](void* pointer) noexcept {
  std::free(pointer);
}
void operator delete(void* pointer, std::size_t) noexcept {
  std::free(pointer);
}
void operator delete[](void* pointer, std::size_t) noexcept {
  std::free(pointer);
}

using namespace ringtunnel;
using namespace ringtunnel::tunnel;
using namespace ringtunnel::tunnel::test;

TEST_CASE("seal, assemble and open allocate nothing per record", "[tunnel][record][allocation]") {
  if (!g_hooks_installed) {
    WARN("OpenSSL allocated before the counting hooks could be installed; OpenSSL not checked");
  }
  for (auto algorithm :
       {crypto::AeadAlgorithm::aes_256_gcm, crypto::AeadAlgorithm::chacha20_poly1305}) {
    Secret secret;
    secret.span()[0] = std::byte{1};
    RecordSealer sealer = must(RecordSealer::create(algorithm, secret.span(), Clock::now()));
    RecordOpener opener = must(RecordOpener::create(algorithm, secret.span()));
    const std::size_t before_assembler = g_new_calls;
    RecordAssembler assembler;
    REQUIRE(g_new_calls == before_assembler + 1);  // the counter does see allocations
    if (g_hooks_installed) REQUIRE(g_openssl_allocations > 0);
    Bytes plaintext(16384, std::byte{0x5a});
    Bytes wire(RecordSealer::sealed_size(plaintext.size()));

    auto one_record = [&] {
      REQUIRE(sealer.seal(plaintext, wire).ok());
      auto chunk = std::span<const std::byte>(wire);
      while (!chunk.empty()) {  // in two pieces, as the network might deliver it
        const auto taken = assembler.feed(chunk.first(std::min<std::size_t>(chunk.size(), 1000)));
        REQUIRE(taken.ok());
        chunk = chunk.subspan(*taken);
      }
      REQUIRE(assembler.has_record());
      REQUIRE(opener.open(assembler.record()).ok());
      assembler.consume();
    };
    one_record();  // warm-up: the library may set things up lazily on first use

    const std::size_t new_before = g_new_calls;
    const std::size_t openssl_before = g_openssl_allocations;
    for (int i = 0; i < 100; ++i) one_record();
    // The failure path too.
    REQUIRE(sealer.seal(plaintext, wire).ok());
    wire[10] ^= std::byte{1};
    CHECK_FALSE(opener.open(wire).ok());
    CHECK(g_new_calls == new_before);
    CHECK(g_openssl_allocations == openssl_before);
  }
}
