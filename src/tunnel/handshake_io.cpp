// SPDX-License-Identifier: MIT
// Handshake I/O: framed hellos and records read through one buffer, sends, the deadline.
#include "tunnel/handshake_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "protocol/handshake.hpp"
#include "protocol/record.hpp"
#include "runtime/io.hpp"
#include "tunnel/record_layer.hpp"

namespace ringtunnel::tunnel {
namespace {

using protocol::Reason;
using runtime::Task;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 16 * 1024;

/// Reads the peer's handshake messages into one buffer; what is left after the last one is
/// the session's. Views it returns are valid until the next read or drop.
class MessageReader {
 public:
  MessageReader(int fd, Clock::time_point deadline) : fd_(fd), deadline_(deadline) {}

  /// The body of the next `u16 length || body` plaintext message.
  Task<Result<std::span<std::byte>>> next_hello() {
    if (auto got = co_await fill(protocol::kHandshakeLengthSize); !got) co_return got.error();
    auto length = protocol::handshake_message_length(
        std::span<const std::byte, protocol::kHandshakeLengthSize>(data(), 2));
    if (!length) co_return length.error();
    if (auto got = co_await fill(2 + *length); !got) co_return got.error();
    pending_ = 2 + *length;
    co_return std::span<std::byte>(data() + 2, *length);
  }

  /// The next whole record (header included), writable so it can be opened in place.
  Task<Result<std::span<std::byte>>> next_record() {
    if (auto got = co_await fill(protocol::kRecordHeaderSize); !got) co_return got.error();
    auto length = protocol::parse_record_length(
        std::span<const std::byte, protocol::kRecordHeaderSize>(data(), 4));
    if (!length) co_return length.error();
    const std::size_t whole = protocol::kRecordHeaderSize + *length;
    if (auto got = co_await fill(whole); !got) co_return got.error();
    pending_ = whole;
    co_return std::span<std::byte>(data(), whole);
  }

  /// Forgets the message returned last.
  void drop() {
    start_ += pending_;
    pending_ = 0;
  }

  /// Everything read after the last message.
  Leftover leftover() {
    drop();
    return Leftover(buffer_.begin() + static_cast<std::ptrdiff_t>(start_),
                    buffer_.begin() + static_cast<std::ptrdiff_t>(end_));
  }

  Clock::time_point deadline() const noexcept { return deadline_; }
  void extend_deadline(Clock::duration by) noexcept { deadline_ += by; }

 private:
  std::byte* data() noexcept { return buffer_.data() + start_; }

  // Reads until `n` bytes from start_ are buffered; ETIMEDOUT past the deadline, ECONNRESET
  // when the peer closes first.
  Task<Result<void>> fill(std::size_t n) {
    while (end_ - start_ < n) {
      make_room(n);
      const auto left = deadline_ - Clock::now();
      if (left <= Clock::duration::zero()) co_return errno_code(ETIMEDOUT);
      auto got = co_await runtime::recv(fd_, std::span(buffer_).subspan(end_),
                                        {.timeout = left});
      if (!got) co_return got.error();
      if (*got == 0) co_return errno_code(ECONNRESET);
      end_ += *got;
    }
    co_return Result<void>{};
  }

  // At least `n` bytes of room from start_, and some to read into beyond what is buffered.
  void make_room(std::size_t n) {
    if (start_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
    }
    const std::size_t want = std::max(n, end_ + kReadChunk);
    if (buffer_.size() < want) buffer_.resize(want);
  }

  int fd_;
  Clock::time_point deadline_;
  std::vector<std::byte> buffer_;
  std::size_t start_ = 0;
  std::size_t end_ = 0;
  std::size_t pending_ = 0;  // size of the message last returned
};

Task<Result<void>> send_bytes(int fd, std::span<const std::byte> bytes,
                              Clock::time_point deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) co_return errno_code(ETIMEDOUT);
  co_return co_await runtime::send_all(fd, bytes, {.timeout = left});
}

Clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  return Clock::now() + timeout;
}

}  // namespace

Task<Result<ClientHandshakeResult>> run_client_handshake(int fd, ClientHandshake& handshake,
                                                         TrustDecision trust,
                                                         std::chrono::milliseconds timeout,
                                                         std::string* server_message) {
  MessageReader reader(fd, deadline_after(timeout));
  auto hello = handshake.client_hello();
  if (!hello) co_return hello.error();
  if (auto sent = co_await send_bytes(fd, *hello, reader.deadline()); !sent) {
    co_return sent.error();
  }
  auto server_hello = co_await reader.next_hello();
  if (!server_hello) co_return server_hello.error();
  auto identity = handshake.on_server_hello(*server_hello);
  reader.drop();
  if (!identity) co_return identity.error();
  // The trust decision may ask a person; the deadline does not run while it waits.
  const auto asked_at = Clock::now();
  if (auto trusted = co_await trust(*identity); !trusted) co_return trusted.error();
  reader.extend_deadline(Clock::now() - asked_at);
  auto auth = handshake.client_auth_record();
  if (!auth) co_return auth.error();
  if (auto sent = co_await send_bytes(fd, *auth, reader.deadline()); !sent) co_return sent.error();
  auto record = co_await reader.next_record();
  if (!record) co_return record.error();
  auto established = handshake.on_auth_result(*record);
  if (!established) {
    if (server_message) *server_message = handshake.server_message();
    co_return established.error();
  }
  co_return ClientHandshakeResult{std::move(established).value(), reader.leftover()};
}

Task<Result<ServerHandshakeResult>> run_server_handshake(int fd, ServerHandshake& handshake,
                                                         std::optional<std::string> token,
                                                         AdmissionDecision admit,
                                                         std::chrono::milliseconds timeout,
                                                         ClientClaim* claim_out) {
  MessageReader reader(fd, deadline_after(timeout));
  auto client_hello = co_await reader.next_hello();
  if (!client_hello) co_return client_hello.error();
  auto server_hello = handshake.on_client_hello(*client_hello);
  reader.drop();
  if (!server_hello) {
    // Tell the client what could not be agreed on (unsigned: nothing is agreed to sign with).
    if (!handshake.refusal_hello().empty()) {
      (void)co_await send_bytes(fd, handshake.refusal_hello(), reader.deadline());
    }
    co_return server_hello.error();
  }
  if (auto sent = co_await send_bytes(fd, *server_hello, reader.deadline()); !sent) {
    co_return sent.error();
  }
  auto record = co_await reader.next_record();
  if (!record) co_return record.error();
  std::optional<std::string_view> expected;
  if (token) expected = *token;
  auto claim = handshake.on_client_auth(*record, expected);
  reader.drop();
  Admission admission;
  if (!claim) {
    admission.reason = protocol::reason_of(claim.error());
    admission.message = claim.error().message();
  } else {
    if (claim_out) *claim_out = *claim;
    admission = co_await admit(*claim);
  }
  if (admission.reason != Reason::ok) {
    auto refusal = handshake.refuse(admission.reason, admission.message);
    if (refusal) (void)co_await send_bytes(fd, *refusal, reader.deadline());
    co_return claim ? protocol::make_error_code(admission.reason) : claim.error();
  }
  auto accepted = handshake.accept(admission.params);
  if (!accepted) co_return accepted.error();
  if (auto sent = co_await send_bytes(fd, accepted->first, reader.deadline()); !sent) {
    co_return sent.error();
  }
  co_return ServerHandshakeResult{std::move(accepted->second), std::move(claim).value(),
                                  reader.leftover()};
}

}  // namespace ringtunnel::tunnel
