// SPDX-License-Identifier: MIT
// Tests for crypto::random_bytes: fills the buffer, differs between calls.
#include "crypto/random.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <vector>

using ringtunnel::crypto::random_bytes;

TEST_CASE("random_bytes fills the whole buffer and differs between calls", "[crypto][random]") {
  std::array<std::byte, 32> a{};
  std::array<std::byte, 32> b{};
  random_bytes(a);
  random_bytes(b);
  // 2^-256 chance of a false failure.
  CHECK(a != b);
  CHECK(a != std::array<std::byte, 32>{});
}

TEST_CASE("random_bytes accepts empty and large buffers", "[crypto][random]") {
  random_bytes({});
  std::vector<std::byte> big(1 << 20);
  random_bytes(big);
  // The last 64 bytes all zero would mean the tail was never written (2^-512 by chance).
  bool tail_written = false;
  for (std::size_t i = big.size() - 64; i < big.size(); ++i) {
    tail_written = tail_written || big[i] != std::byte{0};
  }
  CHECK(tail_written);
}
