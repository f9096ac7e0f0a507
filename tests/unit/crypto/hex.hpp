// SPDX-License-Identifier: MIT
// Test helpers for tests/unit/crypto: hex and text to bytes and back.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ringtunnel::crypto::testing {

/// Bytes from hex text; spaces are ignored so vectors can be pasted as printed in RFCs.
inline std::vector<std::byte> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("bad hex digit in test vector");
  };
  std::vector<std::byte> out;
  int high = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n') continue;
    if (high < 0) {
      high = nibble(c);
    } else {
      out.push_back(static_cast<std::byte>(high * 16 + nibble(c)));
      high = -1;
    }
  }
  if (high >= 0) throw std::invalid_argument("odd number of hex digits in test vector");
  return out;
}

/// A fixed-size array from hex text (exactly N bytes).
template <std::size_t N>
std::array<std::byte, N> array_from_hex(std::string_view hex) {
  const std::vector<std::byte> bytes = from_hex(hex);
  if (bytes.size() != N) throw std::invalid_argument("test vector has the wrong length");
  std::array<std::byte, N> out;
  for (std::size_t i = 0; i < N; ++i) out[i] = bytes[i];
  return out;
}

/// Lower-case hex of `bytes`, for readable Catch2 failure messages.
inline std::string to_hex(std::span<const std::byte> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::byte b : bytes) {
    out += kDigits[static_cast<unsigned>(b) >> 4];
    out += kDigits[static_cast<unsigned>(b) & 0xf];
  }
  return out;
}

/// The bytes of `text` (no terminator).
inline std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) out[i] = static_cast<std::byte>(text[i]);
  return out;
}

}  // namespace ringtunnel::crypto::testing
