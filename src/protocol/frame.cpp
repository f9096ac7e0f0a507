// SPDX-License-Identifier: MIT
// Frame header validation, the record plaintext walker and stream id rules.
#include "protocol/frame.hpp"

#include "protocol/problem.hpp"
#include "protocol/wire.hpp"

namespace ringtunnel::protocol {

const char* to_string(FrameType type) noexcept {
  switch (type) {
    case FrameType::open:
      return "OPEN";
    case FrameType::open_ok:
      return "OPEN_OK";
    case FrameType::open_refused:
      return "OPEN_REFUSED";
    case FrameType::data:
      return "DATA";
    case FrameType::window:
      return "WINDOW";
    case FrameType::fin:
      return "FIN";
    case FrameType::reset:
      return "RESET";
    case FrameType::ping:
      return "PING";
    case FrameType::pong:
      return "PONG";
    case FrameType::goaway:
      return "GOAWAY";
    case FrameType::key_update:
      return "KEY_UPDATE";
    case FrameType::close:
      return "CLOSE";
  }
  return "unknown";
}

Result<std::optional<FrameView>> FrameReader::next() noexcept {
  if (error_) return error_;
  if (rest_.empty()) {
    // §2: a record's plaintext is one or more frames.
    if (!started_) return error_ = make_error(Problem::record_empty);
    return std::optional<FrameView>{};
  }
  started_ = true;
  if (rest_.size() < kFrameHeaderSize) {
    return error_ = make_error(Problem::frame_header_truncated, rest_.size());
  }
  ByteReader in(rest_);
  const uint8_t type = *in.u8();
  const uint8_t flags = *in.u8();
  const uint32_t stream_id = *in.u32();
  const uint32_t length = *in.u32();

  if (!is_known_frame_type(type)) return error_ = make_error(Problem::frame_type_unknown, type);
  const auto frame_type = static_cast<FrameType>(type);
  if (flags != 0) return error_ = make_error(Problem::frame_flags, flags);
  if (is_session_frame(frame_type) && stream_id != 0) {
    return error_ = make_error(Problem::session_frame_on_stream, type);
  }
  if (!is_session_frame(frame_type) && stream_id == 0) {
    return error_ = make_error(Problem::stream_frame_on_session, type);
  }
  // The limit first: a huge length is the peer's fault whatever the record holds.
  if (length > kMaxFramePayload) return error_ = make_error(Problem::frame_too_large, length);
  if (length > in.remaining()) {
    return error_ = make_error(Problem::frame_payload_truncated, length);
  }
  const std::span<const std::byte> payload = *in.bytes(length);
  rest_ = in.rest();
  return std::optional<FrameView>{FrameView{frame_type, flags, stream_id, payload}};
}

uint32_t frame_payload_length(std::span<const std::byte, kFrameHeaderSize> header) noexcept {
  ByteReader in(header.subspan<6, 4>());
  return *in.u32();
}

void write_frame_header(std::span<std::byte, kFrameHeaderSize> out, FrameType type, uint8_t flags,
                        uint32_t stream_id, uint32_t length) noexcept {
  ByteWriter w{std::span<std::byte>(out)};
  w.u8(static_cast<uint8_t>(type));
  w.u8(flags);
  w.u32(stream_id);
  w.u32(length);
}

Result<void> StreamIdTracker::on_open(uint32_t id) noexcept {
  if (opener_ == Role::client && !is_client_stream(id)) {
    return make_error(Problem::client_stream_even, id);
  }
  if (opener_ == Role::server && !is_server_stream(id)) {
    return make_error(Problem::server_stream_odd, id);
  }
  if (id <= last_) return make_error(Problem::stream_not_increasing, id);
  last_ = id;
  return {};
}

bool StreamIdTracker::seen(uint32_t id) const noexcept {
  const bool parity = opener_ == Role::client ? is_client_stream(id) : is_server_stream(id);
  return parity && id <= last_;
}

}  // namespace ringtunnel::protocol
