// SPDX-License-Identifier: MIT
// Typed frame payloads: field-by-field decoders and validating encoders.
#include "protocol/payload.hpp"

#include "protocol/field_reader.hpp"
#include "protocol/problem.hpp"

namespace ringtunnel::protocol {
namespace {

std::error_code check_window(uint32_t window, Field field) noexcept {
  if (window > kMaxWindow) return make_error(Problem::over_window, field);
  return {};
}

std::error_code check_increment(uint32_t increment) noexcept {
  if (increment == 0) return make_error(Problem::bad_value, Field::window_increment, 0);
  return check_window(increment, Field::window_increment);
}

std::error_code check_empty(std::span<const std::byte> payload, Field message) noexcept {
  if (!payload.empty()) return make_error(Problem::not_empty, message, payload.size());
  return {};
}

// Writes the header of a frame of `type` with `length` payload bytes, after checking scope.
std::error_code begin_frame(ByteWriter& out, FrameType type, uint32_t stream_id,
                            std::size_t length) noexcept {
  const auto raw_type = static_cast<uint8_t>(type);
  if (is_session_frame(type) && stream_id != 0) {
    return make_error(Problem::session_frame_on_stream, raw_type);
  }
  if (!is_session_frame(type) && stream_id == 0) {
    return make_error(Problem::stream_frame_on_session, raw_type);
  }
  if (length > kMaxFramePayload) return make_error(Problem::frame_too_large, length);
  out.u8(raw_type);
  out.u8(0);
  out.u32(stream_id);
  out.u32(static_cast<uint32_t>(length));
  return {};
}

Result<void> end_frame(const ByteWriter& out) noexcept {
  if (!out.ok()) return make_error(Problem::output_too_small);
  return {};
}

}  // namespace

// ---- decode -------------------------------------------------------------------------------

Result<Open> decode_open(std::span<const std::byte> payload) noexcept {
  FieldReader in(payload);
  Open p;
  in.read(p.kind, Field::open_kind);
  in.read(p.window, Field::open_window);
  in.read(p.port, Field::open_port);
  in.read(p.host, Field::open_host);
  in.read(p.tunnel, Field::open_tunnel);
  if (auto ec = in.finish(Field::open)) return ec;
  if (!is_known_open_kind(p.kind)) return make_error(Problem::bad_value, Field::open_kind, p.kind);
  if (auto ec = check_window(p.window, Field::open_window)) return ec;
  return p;
}

Result<OpenOk> decode_open_ok(std::span<const std::byte> payload) noexcept {
  FieldReader in(payload);
  OpenOk p;
  in.read(p.window, Field::open_ok_window);
  if (auto ec = in.finish(Field::open_ok)) return ec;
  if (auto ec = check_window(p.window, Field::open_ok_window)) return ec;
  return p;
}

Result<OpenRefused> decode_open_refused(std::span<const std::byte> payload) noexcept {
  FieldReader in(payload);
  OpenRefused p;
  in.read(p.reason, Field::open_refused_reason);
  in.read(p.message, Field::open_refused_message);
  if (auto ec = in.finish(Field::open_refused)) return ec;
  return p;
}

Result<Window> decode_window(std::span<const std::byte> payload) noexcept {
  FieldReader in(payload);
  Window p;
  in.read(p.increment, Field::window_increment);
  if (auto ec = in.finish(Field::window)) return ec;
  if (auto ec = check_increment(p.increment)) return ec;
  return p;
}

Result<Fin> decode_fin(std::span<const std::byte> payload) noexcept {
  if (auto ec = check_empty(payload, Field::fin)) return ec;
  return Fin{};
}

Result<Reset> decode_reset(std::span<const std::byte> payload) noexcept {
  FieldReader in(payload);
  Reset p;
  in.read(p.reason, Field::reset_reason);
  if (auto ec = in.finish(Field::reset)) return ec;
  return p;
}

Result<Ping> decode_ping(std::span<const std::byte> payload) noexcept {
  FieldReader in(payload);
  Ping p;
  in.read(p.opaque, Field::ping_opaque);
  if (auto ec = in.finish(Field::ping)) return ec;
  return p;
}

Result<Pong> decode_pong(std::span<const std::byte> payload) noexcept {
  FieldReader in(payload);
  Pong p;
  in.read(p.opaque, Field::pong_opaque);
  if (auto ec = in.finish(Field::pong)) return ec;
  return p;
}

Result<GoAway> decode_goaway(std::span<const std::byte> payload) noexcept {
  FieldReader in(payload);
  GoAway p;
  in.read(p.last_stream, Field::goaway_last_stream);
  in.read(p.reason, Field::goaway_reason);
  in.read(p.message, Field::goaway_message);
  if (auto ec = in.finish(Field::goaway)) return ec;
  return p;
}

Result<KeyUpdate> decode_key_update(std::span<const std::byte> payload) noexcept {
  if (auto ec = check_empty(payload, Field::key_update)) return ec;
  return KeyUpdate{};
}

Result<Close> decode_close(std::span<const std::byte> payload) noexcept {
  FieldReader in(payload);
  Close p;
  in.read(p.reason, Field::close_reason);
  in.read(p.message, Field::close_message);
  if (auto ec = in.finish(Field::close)) return ec;
  return p;
}

// ---- sizes --------------------------------------------------------------------------------

std::size_t payload_size(const Open& p) noexcept {
  return 9 + p.host.size() + p.tunnel.size();
}
std::size_t payload_size(const OpenRefused& p) noexcept {
  return 3 + p.message.size();
}
std::size_t payload_size(const GoAway& p) noexcept {
  return 7 + p.message.size();
}
std::size_t payload_size(const Close& p) noexcept {
  return 3 + p.message.size();
}

// ---- encode -------------------------------------------------------------------------------

Result<void> append_frame(ByteWriter& out, uint32_t stream_id, const Open& p) noexcept {
  if (!is_known_open_kind(p.kind)) return make_error(Problem::bad_value, Field::open_kind, p.kind);
  if (auto ec = check_window(p.window, Field::open_window)) return ec;
  if (auto ec = check_text(p.host, Field::open_host)) return ec;
  if (auto ec = check_text(p.tunnel, Field::open_tunnel)) return ec;
  if (auto ec = begin_frame(out, p.kType, stream_id, payload_size(p))) return ec;
  out.u8(p.kind);
  out.u32(p.window);
  out.u16(p.port);
  out.str8(p.host);
  out.str8(p.tunnel);
  return end_frame(out);
}

Result<void> append_frame(ByteWriter& out, uint32_t stream_id, const OpenOk& p) noexcept {
  if (auto ec = check_window(p.window, Field::open_ok_window)) return ec;
  if (auto ec = begin_frame(out, p.kType, stream_id, payload_size(p))) return ec;
  out.u32(p.window);
  return end_frame(out);
}

Result<void> append_frame(ByteWriter& out, uint32_t stream_id, const OpenRefused& p) noexcept {
  if (auto ec = check_text(p.message, Field::open_refused_message)) return ec;
  if (auto ec = begin_frame(out, p.kType, stream_id, payload_size(p))) return ec;
  out.u16(static_cast<uint16_t>(p.reason));
  out.str8(p.message);
  return end_frame(out);
}

Result<void> append_frame(ByteWriter& out, uint32_t stream_id, const Window& p) noexcept {
  if (auto ec = check_increment(p.increment)) return ec;
  if (auto ec = begin_frame(out, p.kType, stream_id, payload_size(p))) return ec;
  out.u32(p.increment);
  return end_frame(out);
}

Result<void> append_frame(ByteWriter& out, uint32_t stream_id, const Fin& p) noexcept {
  if (auto ec = begin_frame(out, p.kType, stream_id, payload_size(p))) return ec;
  return end_frame(out);
}

Result<void> append_frame(ByteWriter& out, uint32_t stream_id, const Reset& p) noexcept {
  if (auto ec = begin_frame(out, p.kType, stream_id, payload_size(p))) return ec;
  out.u16(static_cast<uint16_t>(p.reason));
  return end_frame(out);
}

Result<void> append_frame(ByteWriter& out, uint32_t stream_id, const Ping& p) noexcept {
  if (auto ec = begin_frame(out, p.kType, stream_id, payload_size(p))) return ec;
  out.u64(p.opaque);
  return end_frame(out);
}

Result<void> append_frame(ByteWriter& out, uint32_t stream_id, const Pong& p) noexcept {
  if (auto ec = begin_frame(out, p.kType, stream_id, payload_size(p))) return ec;
  out.u64(p.opaque);
  return end_frame(out);
}

Result<void> append_frame(ByteWriter& out, uint32_t stream_id, const GoAway& p) noexcept {
  if (auto ec = check_text(p.message, Field::goaway_message)) return ec;
  if (auto ec = begin_frame(out, p.kType, stream_id, payload_size(p))) return ec;
  out.u32(p.last_stream);
  out.u16(static_cast<uint16_t>(p.reason));
  out.str8(p.message);
  return end_frame(out);
}

Result<void> append_frame(ByteWriter& out, uint32_t stream_id, const KeyUpdate& p) noexcept {
  if (auto ec = begin_frame(out, p.kType, stream_id, payload_size(p))) return ec;
  return end_frame(out);
}

Result<void> append_frame(ByteWriter& out, uint32_t stream_id, const Close& p) noexcept {
  if (auto ec = check_text(p.message, Field::close_message)) return ec;
  if (auto ec = begin_frame(out, p.kType, stream_id, payload_size(p))) return ec;
  out.u16(static_cast<uint16_t>(p.reason));
  out.str8(p.message);
  return end_frame(out);
}

Result<void> append_data_frame(ByteWriter& out, uint32_t stream_id,
                               std::span<const std::byte> data) noexcept {
  if (auto ec = begin_frame(out, FrameType::data, stream_id, data.size())) return ec;
  out.bytes(data);
  return end_frame(out);
}

}  // namespace ringtunnel::protocol
