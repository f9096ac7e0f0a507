// SPDX-License-Identifier: MIT
// Helpers for the protocol tests: byte strings from hex or text, error text of a Result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace ringtunnel::protocol::test {

using Bytes = std::vector<std::byte>;

/// "0a 0B ff" (spaces ignored) as bytes.
inline Bytes hex(std::string_view text) {
  Bytes out;
  int high = -1;
  for (char c : text) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::byte>(high << 4 | v));
      high = -1;
    }
  }
  return out;
}

/// `count` copies of `value`.
inline Bytes fill(std::size_t count, uint8_t value) {
  return Bytes(count, static_cast<std::byte>(value));
}

/// Concatenation.
inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// Text as bytes.
inline Bytes text(std::string_view s) {
  Bytes out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

/// The message of a failed Result, or "" if it succeeded.
template <typename R>
std::string error_text(const R& result) {
  return result.ok() ? std::string() : result.error().message();
}

}  // namespace ringtunnel::protocol::test
