// SPDX-License-Identifier: MIT
// Wire: the TLS library's output into the caller's span or the queue, its input from a span.
#include "crypto/tls/wire.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace ringtunnel::crypto::tls::detail {

bool wire_put(Wire& wire, std::span<const std::byte> bytes) noexcept {
  const std::size_t room = wire.out.size() - wire.written;
  const std::size_t direct = wire.queued.empty() ? std::min(room, bytes.size()) : 0;
  if (direct > 0) std::memcpy(wire.out.data() + wire.written, bytes.data(), direct);
  wire.written += direct;
  if (direct == bytes.size()) return true;
  if (wire.queued.size() + bytes.size() - direct > kMaxQueuedOutput) {
    wire.overflow = true;
    return false;
  }
  try {
    wire.queued.insert(wire.queued.end(), bytes.begin() + direct, bytes.end());
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

std::size_t wire_take(Wire& wire, std::span<std::byte> into) noexcept {
  const std::size_t n = std::min(wire.input.size() - wire.taken, into.size());
  if (n > 0) std::memcpy(into.data(), wire.input.data() + wire.taken, n);
  wire.taken += n;
  return n;
}

void gather(std::span<const std::span<const std::byte>> pieces, std::vector<std::byte>& staging) {
  std::size_t total = 0;
  for (const auto piece : pieces) total += piece.size();
  staging.resize(total);
  std::size_t at = 0;
  for (const auto piece : pieces) {
    if (!piece.empty()) std::memcpy(staging.data() + at, piece.data(), piece.size());
    at += piece.size();
  }
}

bool is_ip_literal(const std::string& name) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

}  // namespace ringtunnel::crypto::tls::detail
