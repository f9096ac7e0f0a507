// SPDX-License-Identifier: MIT
// MessageReader: the peer's handshake messages read through one buffer, with a deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <vector>

#include "runtime/result.hpp"
#include "runtime/task.hpp"

namespace ringtunnel::tunnel {

/// Bytes read past the end of the handshake: the start of the session's record stream.
using Leftover = std::vector<std::byte>;

/// Reads the peer's handshake messages (native hellos and records, or TLS records) into one
/// buffer; what is left after the last one is the session's, so nothing read is lost. Views
/// it returns are valid until the next read or drop. Errors: ETIMEDOUT past the deadline,
/// ECONNRESET when the peer closes first, the socket's errno; the framing's protocol reasons.
/// Must run on a reactor thread; `fd` is borrowed.
class MessageReader {
 public:
  using Clock = std::chrono::steady_clock;

  MessageReader(int fd, Clock::time_point deadline) : fd_(fd), deadline_(deadline) {}

  /// The body of the next `u16 length || body` plaintext message.
  runtime::Task<Result<std::span<std::byte>>> next_hello();
  /// The next whole native record (header included), writable so it can be opened in place.
  runtime::Task<Result<std::span<std::byte>>> next_record();
  /// The next whole TLS record (header included).
  runtime::Task<Result<std::span<std::byte>>> next_tls_record();
  /// At least one byte more than is buffered (for a TLS library that takes what it needs).
  runtime::Task<Result<void>> read_more();

  /// What is buffered and not yet dropped.
  std::span<const std::byte> buffered() const noexcept {
    return std::span(buffer_).subspan(start_, end_ - start_);
  }
  /// Forgets the message returned last.
  void drop() {
    start_ += pending_;
    pending_ = 0;
  }
  /// Forgets the first `n` buffered bytes (taken by a TLS library).
  void drop_bytes(std::size_t n) { start_ += n; }

  /// Everything read after the last message.
  Leftover leftover();

  Clock::time_point deadline() const noexcept { return deadline_; }
  void extend_deadline(Clock::duration by) noexcept { deadline_ += by; }

 private:
  std::byte* data() noexcept { return buffer_.data() + start_; }
  runtime::Task<Result<void>> fill(std::size_t n);
  void make_room(std::size_t n);

  int fd_;
  Clock::time_point deadline_;
  std::vector<std::byte> buffer_;
  std::size_t start_ = 0;
  std::size_t end_ = 0;
  std::size_t pending_ = 0;  // size of the message last returned
};

/// Sends all of `bytes` before `deadline` (ETIMEDOUT after it).
runtime::Task<Result<void>> send_before(int fd, std::span<const std::byte> bytes,
                                        std::chrono::steady_clock::time_point deadline);

}  // namespace ringtunnel::tunnel
