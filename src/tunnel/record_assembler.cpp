// SPDX-License-Identifier: MIT
// RecordAssembler: header first, then exactly the announced ciphertext, never more.
#include "tunnel/record_assembler.hpp"

#include <algorithm>
#include <cstring>

#include "protocol/record.hpp"

namespace ringtunnel::tunnel {

RecordAssembler::RecordAssembler() : buffer_(std::make_unique<std::byte[]>(kMaxRecordSize)) {}

Result<std::size_t> RecordAssembler::feed(std::span<const std::byte> input) noexcept {
  if (failed_) return failed_;
  std::size_t taken = 0;
  if (!have_length_) {
    const std::size_t want = std::min(protocol::kRecordHeaderSize - filled_, input.size());
    if (want > 0) std::memcpy(buffer_.get() + filled_, input.data(), want);
    filled_ += want;
    taken = want;
    if (filled_ < protocol::kRecordHeaderSize) return taken;
    const auto length =
        protocol::parse_record_length(std::span<const std::byte, protocol::kRecordHeaderSize>(
            buffer_.get(), protocol::kRecordHeaderSize));
    if (!length) {
      failed_ = length.error();
      return failed_;
    }
    have_length_ = true;
    expected_ = protocol::kRecordHeaderSize + *length;
  }
  const std::size_t want = std::min(expected_ - filled_, input.size() - taken);
  if (want > 0) std::memcpy(buffer_.get() + filled_, input.data() + taken, want);
  filled_ += want;
  return taken + want;
}

std::span<std::byte> RecordAssembler::record() noexcept {
  if (!has_record()) return {};
  return {buffer_.get(), filled_};
}

void RecordAssembler::consume() noexcept {
  if (!has_record()) return;
  filled_ = 0;
  expected_ = 0;
  have_length_ = false;
}

}  // namespace ringtunnel::tunnel
