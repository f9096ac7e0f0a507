// SPDX-License-Identifier: MIT
// Standard base64 encode and strict decode, shared by both crypto backends.
#include "crypto/base64.hpp"

#include <array>
#include <cstdint>

namespace ringtunnel::crypto::detail {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> table{};
  for (auto& value : table) value = kInvalid;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return table;
}
constexpr std::array<std::uint8_t, 256> kDecode = make_decode_table();

constexpr std::size_t encoded_size(std::size_t bytes) { return (bytes + 2) / 3 * 4; }

}  // namespace

std::string base64_encode(std::span<const std::byte> bytes) {
  std::string text;
  text.reserve(encoded_size(bytes.size()));
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t left = bytes.size() - i;
    std::uint32_t group = std::to_integer<std::uint32_t>(bytes[i]) << 16;
    if (left > 1) group |= std::to_integer<std::uint32_t>(bytes[i + 1]) << 8;
    if (left > 2) group |= std::to_integer<std::uint32_t>(bytes[i + 2]);
    text += kAlphabet[(group >> 18) & 63];
    text += kAlphabet[(group >> 12) & 63];
    text += left > 1 ? kAlphabet[(group >> 6) & 63] : '=';
    text += left > 2 ? kAlphabet[group & 63] : '=';
  }
  return text;
}

bool base64_decode(std::string_view text, std::span<std::byte> out) noexcept {
  if (text.size() != encoded_size(out.size())) return false;
  const std::size_t padding = (3 - out.size() % 3) % 3;
  const std::size_t characters = text.size() - padding;  // the ones that carry bits
  for (std::size_t i = characters; i < text.size(); ++i) {
    if (text[i] != '=') return false;
  }
  std::uint32_t bits = 0;
  int pending = 0;  // bits accumulated in `bits` not yet written out
  std::size_t written = 0;
  for (std::size_t i = 0; i < characters; ++i) {
    const std::uint8_t value = kDecode[static_cast<unsigned char>(text[i])];
    if (value == kInvalid) return false;
    bits = (bits << 6) | value;
    pending += 6;
    if (pending >= 8) {
      pending -= 8;
      out[written++] = static_cast<std::byte>(bits >> pending);
      bits &= (std::uint32_t{1} << pending) - 1;
    }
  }
  return written == out.size();
}

}  // namespace ringtunnel::crypto::detail
