// SPDX-License-Identifier: MIT
// The record layer allocates nothing per record: operator new and OpenSSL's allocator counted.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>

#include "allocation_counter.hpp"
#include "tunnel/record_assembler.hpp"
#include "tunnel/record_layer.hpp"
#include "tunnel_test_support.hpp"

using namespace ringtunnel;
using namespace ringtunnel::tunnel;
using namespace ringtunnel::tunnel::test;

TEST_CASE("seal, assemble and open allocate nothing per record", "[tunnel][record][allocation]") {
  if (!testing::openssl_hooks_installed()) {
    WARN("OpenSSL allocated before the counting hooks could be installed; OpenSSL not checked");
  }
  for (auto algorithm :
       {crypto::AeadAlgorithm::aes_256_gcm, crypto::AeadAlgorithm::chacha20_poly1305}) {
    Secret secret;
    secret.span()[0] = std::byte{1};
    RecordSealer sealer = must(RecordSealer::create(algorithm, secret.span(), Clock::now()));
    RecordOpener opener = must(RecordOpener::create(algorithm, secret.span()));
    const std::size_t before_assembler = testing::operator_new_calls();
    RecordAssembler assembler;
    REQUIRE(testing::operator_new_calls() == before_assembler + 1);  // the counter does see allocations
    if (testing::openssl_hooks_installed()) REQUIRE(testing::openssl_allocations() > 0);
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
    // The gathered form seals a header and a payload where they lie.
    const Bytes header(10, std::byte{0x11});
    const std::span<const std::byte> pieces[] = {header, plaintext};
    Bytes gathered(RecordSealer::sealed_size(header.size() + plaintext.size()));
    auto one_gathered_record = [&] {
      REQUIRE(sealer.seal_gather(pieces, gathered).ok());
      REQUIRE(opener.open(gathered).ok());
    };
    one_record();  // warm-up: the library may set things up lazily on first use

    const std::size_t new_before = testing::operator_new_calls();
    const std::size_t openssl_before = testing::openssl_allocations();
    for (int i = 0; i < 100; ++i) {
      one_record();
      one_gathered_record();
    }
    // The failure path too.
    REQUIRE(sealer.seal(plaintext, wire).ok());
    wire[10] ^= std::byte{1};
    CHECK_FALSE(opener.open(wire).ok());
    CHECK(testing::operator_new_calls() == new_before);
    CHECK(testing::openssl_allocations() == openssl_before);
  }
}
