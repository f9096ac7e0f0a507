// SPDX-License-Identifier: MIT
// Record header bounds and the record nonce.
#include "protocol/record.hpp"

#include "protocol/problem.hpp"
#include "protocol/wire.hpp"

namespace ringtunnel::protocol {

Result<uint32_t> parse_record_length(
    std::span<const std::byte, kRecordHeaderSize> header) noexcept {
  ByteReader in{std::span<const std::byte>(header)};
  const uint32_t length = *in.u32();
  if (length < kMinRecordCiphertext) return make_error(Problem::record_too_short, length);
  if (length > kMaxRecordCiphertext) return make_error(Problem::record_too_long, length);
  return length;
}

void write_record_header(std::span<std::byte, kRecordHeaderSize> out,
                         uint32_t ciphertext_length) noexcept {
  ByteWriter w{std::span<std::byte>(out)};
  w.u32(ciphertext_length);
}

std::array<std::byte, kNonceSize> record_nonce(uint64_t counter) noexcept {
  std::array<std::byte, kNonceSize> nonce{};
  ByteWriter w{std::span<std::byte>(nonce).subspan(4)};
  w.u64(counter);
  return nonce;
}

}  // namespace ringtunnel::protocol
