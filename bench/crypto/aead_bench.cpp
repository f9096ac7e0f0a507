// SPDX-License-Identifier: MIT
// AEAD record micro benches: what one sealed or opened record costs at the sizes the transports
// use (native frames up to 64 KiB, TLS records up to 16 KiB), so that the fixed cost per record
// (nonce, tag, library dispatch) shows beside the cost per byte.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/aead.hpp"

using namespace ringtunnel;
using crypto::AeadAlgorithm;
using crypto::AeadKey;

namespace {

constexpr std::size_t kFrameHeader = 10;  // a DATA frame's header, sealed as its own piece

AeadKey make_key(AeadAlgorithm algorithm) {
  std::vector<std::byte> bytes(crypto::kAeadKeySize, std::byte{0x42});
  return std::move(*AeadKey::create(algorithm, bytes));
}

AeadAlgorithm algorithm_of(const benchmark::State& state) {
  return static_cast<AeadAlgorithm>(state.range(1));
}

// One record from a frame header and its payload where they lie (the send path's gather).
void BM_SealGather(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  auto key = make_key(algorithm_of(state));
  std::vector<std::byte> header(kFrameHeader, std::byte{1});
  std::vector<std::byte> payload(size - kFrameHeader, std::byte{2});
  std::vector<std::byte> out(size + crypto::kAeadTagSize);
  const std::byte aad[5] = {};
  const std::span<const std::byte> pieces[2] = {header, payload};
  std::uint64_t counter = 0;
  for (auto _ : state) {
    auto sealed = key.seal_gather(counter++, aad, pieces, out);
    if (!sealed) state.SkipWithError("seal failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

// Opening one record (into a second buffer, so the same record opens every time; the receive
// paths open in place, which costs the same).
void BM_Open(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  auto seal_key = make_key(algorithm_of(state));
  auto open_key = make_key(algorithm_of(state));
  std::vector<std::byte> plaintext(size, std::byte{3});
  std::vector<std::byte> record(size + crypto::kAeadTagSize);
  std::vector<std::byte> out(size);
  const std::byte aad[5] = {};
  if (!seal_key.seal(0, aad, plaintext, record)) state.SkipWithError("seal failed");
  for (auto _ : state) {
    auto opened = open_key.open(0, aad, record, out);
    if (!opened) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (const auto algorithm : {AeadAlgorithm::aes_256_gcm, AeadAlgorithm::chacha20_poly1305}) {
    for (const std::int64_t size : {1024, 16 * 1024, 64 * 1024}) {
      b->Args({size, static_cast<std::int64_t>(algorithm)});
    }
  }
  b->ArgNames({"bytes", "aead"});
}

}  // namespace

BENCHMARK(BM_SealGather)->Apply(Sizes);
BENCHMARK(BM_Open)->Apply(Sizes);
BENCHMARK_MAIN();
