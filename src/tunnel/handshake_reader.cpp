// SPDX-License-Identifier: MIT
// MessageReader: fills one buffer from the socket until a whole message is there.
#include "tunnel/handshake_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "crypto/tls/tls.hpp"
#include "protocol/handshake.hpp"
#include "protocol/record.hpp"
#include "runtime/io.hpp"

namespace ringtunnel::tunnel {
namespace {

using runtime::Task;

constexpr std::size_t kReadChunk = 16 * 1024;

}  // namespace

Task<Result<std::span<std::byte>>> MessageReader::next_hello() {
  if (auto got = co_await fill(protocol::kHandshakeLengthSize); !got) co_return got.error();
  auto length = protocol::handshake_message_length(
      std::span<const std::byte, protocol::kHandshakeLengthSize>(data(), 2));
  if (!length) co_return length.error();
  if (auto got = co_await fill(2 + *length); !got) co_return got.error();
  pending_ = 2 + *length;
  co_return std::span<std::byte>(data() + 2, *length);
}

Task<Result<std::span<std::byte>>> MessageReader::next_record() {
  if (auto got = co_await fill(protocol::kRecordHeaderSize); !got) co_return got.error();
  auto length = protocol::parse_record_length(
      std::span<const std::byte, protocol::kRecordHeaderSize>(data(), 4));
  if (!length) co_return length.error();
  const std::size_t whole = protocol::kRecordHeaderSize + *length;
  if (auto got = co_await fill(whole); !got) co_return got.error();
  pending_ = whole;
  co_return std::span<std::byte>(data(), whole);
}

Task<Result<std::span<std::byte>>> MessageReader::next_tls_record() {
  constexpr std::size_t kTlsHeader = 5;
  if (auto got = co_await fill(kTlsHeader); !got) co_return got.error();
  auto whole = crypto::tls::tls_record_size(buffered());
  if (!whole) co_return whole.error();
  if (auto got = co_await fill(*whole); !got) co_return got.error();
  pending_ = *whole;
  co_return std::span<std::byte>(data(), *whole);
}

Task<Result<void>> MessageReader::read_more() {
  co_return co_await fill(end_ - start_ + 1);
}

Leftover MessageReader::leftover() {
  drop();
  return Leftover(buffer_.begin() + static_cast<std::ptrdiff_t>(start_),
                  buffer_.begin() + static_cast<std::ptrdiff_t>(end_));
}

// Reads until `n` bytes from start_ are buffered.
Task<Result<void>> MessageReader::fill(std::size_t n) {
  while (end_ - start_ < n) {
    make_room(n);
    const auto left = deadline_ - Clock::now();
    if (left <= Clock::duration::zero()) co_return errno_code(ETIMEDOUT);
    auto got = co_await runtime::recv(fd_, std::span(buffer_).subspan(end_), {.timeout = left});
    if (!got) co_return got.error();
    if (*got == 0) co_return errno_code(ECONNRESET);
    end_ += *got;
  }
  co_return Result<void>{};
}

// At least `n` bytes of room from start_, and some to read into beyond what is buffered.
void MessageReader::make_room(std::size_t n) {
  if (start_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  const std::size_t want = std::max(n, end_ + kReadChunk);
  if (buffer_.size() < want) buffer_.resize(want);
}

Task<Result<void>> send_before(int fd, std::span<const std::byte> bytes,
                               std::chrono::steady_clock::time_point deadline) {
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) co_return errno_code(ETIMEDOUT);
  co_return co_await runtime::send_all(fd, bytes, {.timeout = left});
}

}  // namespace ringtunnel::tunnel
