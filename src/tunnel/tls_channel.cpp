// SPDX-License-Identifier: MIT
// TlsChannel: gathers frames into TLS writes; decrypts records in place and yields whole frames.
#include "tunnel/tls_channel.hpp"

#include <cerrno>
#include <cstring>

#include "protocol/frame.hpp"
#include "protocol/limits.hpp"
#include "protocol/reason.hpp"

namespace ringtunnel::tunnel {
namespace {

namespace tls = crypto::tls;

// How much spent ciphertext open() lets pile up behind a cut frame before it moves the frame.
constexpr std::size_t kMaxGap = 64 * 1024;

// Bytes of whole frames at the front of `plaintext`; frame_too_large for a header announcing
// more than any frame may carry (or a peer could make us hold its bytes forever).
Result<std::size_t> whole_frames(std::span<const std::byte> plaintext) noexcept {
  std::size_t at = 0;
  while (plaintext.size() - at >= protocol::kFrameHeaderSize) {
    const std::size_t payload =
        protocol::frame_payload_length(plaintext.subspan(at).first<protocol::kFrameHeaderSize>());
    if (payload > protocol::kMaxFramePayload) {
      return protocol::make_error_code(protocol::Reason::frame_too_large);
    }
    if (plaintext.size() - at < protocol::kFrameHeaderSize + payload) break;
    at += protocol::kFrameHeaderSize + payload;
  }
  return at;
}

}  // namespace

TlsChannel::TlsChannel(std::unique_ptr<tls::TlsConnection> connection, Clock::time_point now)
    : connection_(std::move(connection)), key_started_(now) {}

std::size_t TlsChannel::max_plaintext() const noexcept {
  return protocol::kMaxRecordPlaintext;
}

std::size_t TlsChannel::sealed_size(std::size_t plaintext) const noexcept {
  return connection_->sealed_size(plaintext);
}

std::size_t TlsChannel::max_unit() const noexcept {
  // A cut frame's plaintext and spent ciphertext (at most its records' size) plus the record
  // being read.
  const std::size_t frame_records =
      (protocol::kMaxRecordPlaintext + tls::kMaxTlsPlaintext - 1) / tls::kMaxTlsPlaintext + 1;
  return protocol::kMaxRecordPlaintext + frame_records * tls::kTlsRecordOverhead +
         tls::kMaxTlsRecord + kMaxGap;
}

Result<std::size_t> TlsChannel::seal(std::span<const ConstBytes> pieces, std::span<std::byte> out,
                                     Clock::time_point now) noexcept {
  if (pieces.size() > kMaxSealPieces) return errno_code(EINVAL);
  std::size_t total = 0;
  for (const ConstBytes& piece : pieces) total += piece.size();
  if (total == 0) return errno_code(EINVAL);
  if (total > max_plaintext()) return errno_code(EMSGSIZE);
  if (out.size() < sealed_size(total)) return errno_code(EINVAL);
  if (records_on_key_ >= protocol::kKeyUpdateRecords ||
      now - key_started_ >= protocol::kKeyUpdateInterval) {
    if (auto updated = connection_->update_key(); !updated) return updated.error();
    records_on_key_ = 0;
    key_started_ = now;
  }
  records_on_key_ += (total + tls::kMaxTlsPlaintext - 1) / tls::kMaxTlsPlaintext;
  return connection_->write(pieces, out);
}

Result<Opened> TlsChannel::open(std::span<std::byte> input) noexcept {
  std::size_t plain_end = carried_;
  std::size_t read_at = carried_ + gap_;
  for (;;) {
    auto size = tls::tls_record_size(input.subspan(read_at));
    if (!size) return size.error();
    if (*size == 0 || input.size() - read_at < *size) break;
    // The record's plaintext goes right after the plaintext before it, over spent ciphertext
    // and this record's own bytes (taken in by the library before it writes).
    const auto record = input.subspan(read_at, *size);
    auto plaintext =
        connection_->read_record(record, input.subspan(plain_end, read_at + *size - plain_end));
    if (!plaintext) return plaintext.error();
    plain_end += *plaintext;
    read_at += *size;
  }
  auto whole = whole_frames(input.first(plain_end));
  if (!whole) return whole.error();
  carried_ = plain_end - *whole;
  std::size_t consumed = *whole;
  if (carried_ == 0) {
    consumed = read_at;  // the spent ciphertext behind the last frame goes with it
  } else if (read_at - plain_end > kMaxGap) {
    // Spent ciphertext piles up behind a cut frame by 22 bytes a record: move the frame's
    // start up against the unread bytes (past the frames returned), so the pile can go.
    std::memmove(input.data() + read_at - carried_, input.data() + *whole, carried_);
    consumed = read_at - carried_;
  }
  gap_ = read_at - consumed - carried_;
  return Opened{consumed, input.first(*whole)};
}

Result<void> TlsChannel::peer_key_update() noexcept {
  return protocol::make_error_code(protocol::Reason::protocol_error);  // TLS updates its own keys
}

}  // namespace ringtunnel::tunnel
