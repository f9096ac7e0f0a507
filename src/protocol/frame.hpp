// SPDX-License-Identifier: MIT
// Frames (docs/protocol.md §3): types, the 10-byte header, the reader over a record, stream ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "protocol/limits.hpp"
#include "protocol/reason.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::protocol {

// Everything here is a pure function of its arguments (classes hold only their own state):
// any thread may call it, and nothing does I/O, crypto or, on the decode side, allocation.

/// The frame types of §3. A byte outside 1..12 is not a FrameType; FrameReader rejects it.
enum class FrameType : uint8_t {
  open = 1,
  open_ok = 2,
  open_refused = 3,
  data = 4,
  window = 5,
  fin = 6,
  reset = 7,
  ping = 8,
  pong = 9,
  goaway = 10,
  key_update = 11,
  close = 12,
};

/// The wire name of a frame type ("OPEN", "KEY_UPDATE"), or "unknown". Static, never null.
const char* to_string(FrameType type) noexcept;

/// True for 1..12.
constexpr bool is_known_frame_type(uint8_t type) noexcept {
  return type >= 1 && type <= 12;
}

/// Session frames (PING, PONG, GOAWAY, KEY_UPDATE, CLOSE) travel on stream 0; every other
/// type names a stream.
constexpr bool is_session_frame(FrameType type) noexcept {
  return type >= FrameType::ping && type <= FrameType::close;
}

/// `type u8 || flags u8 || stream_id u32 || length u32`.
inline constexpr std::size_t kFrameHeaderSize = 10;

/// One frame of a record's plaintext. `payload` points into the plaintext the FrameReader was
/// given and is valid as long as that buffer is.
struct FrameView {
  FrameType type;
  uint8_t flags;  ///< always 0 in version 1 (FrameReader rejects anything else)
  uint32_t stream_id;
  std::span<const std::byte> payload;
};

/// Walks the frames of one decrypted record plaintext, back to back, validating each header.
///
/// next() returns the next frame, nullopt at the clean end, or an error:
///   protocol_error  a record with no frames, a header or payload cut off by the record's end,
///                   an unknown type, non-zero flags, a stream frame on stream 0, or a session
///                   frame on a stream;
///   frame_too_large a payload longer than kMaxFramePayload.
/// Errors are sticky: once next() has failed it returns the same error again. Payload contents
/// are not checked here (see payload.hpp). No allocation; not thread-safe (core-local use).
class FrameReader {
 public:
  /// `plaintext` must outlive the reader and every FrameView it returns.
  explicit FrameReader(std::span<const std::byte> plaintext) noexcept : rest_(plaintext) {}

  [[nodiscard]] Result<std::optional<FrameView>> next() noexcept;

  /// Bytes after the last frame returned.
  std::size_t remaining() const noexcept { return rest_.size(); }

 private:
  std::span<const std::byte> rest_;
  std::error_code error_;
  bool started_ = false;
};

/// The payload length a frame header announces (unchecked: FrameReader enforces the limits).
[[nodiscard]] uint32_t frame_payload_length(
    std::span<const std::byte, kFrameHeaderSize> header) noexcept;

/// Writes a frame header. No checks: callers pass a known type and a length they have bounded
/// (the encoders in payload.hpp validate; this is the raw primitive for DATA built in place).
void write_frame_header(std::span<std::byte, kFrameHeaderSize> out, FrameType type, uint8_t flags,
                        uint32_t stream_id, uint32_t length) noexcept;

// ---- stream ids ---------------------------------------------------------------------------

/// Which end of a session.
enum class Role : uint8_t { client, server };

/// Client-opened stream ids are odd.
constexpr bool is_client_stream(uint32_t id) noexcept {
  return (id & 1U) == 1U;
}
/// Server-opened stream ids are even and non-zero (0 is the session itself).
constexpr bool is_server_stream(uint32_t id) noexcept {
  return id != 0 && (id & 1U) == 0U;
}
/// The side that opens stream `id` (meaningless for 0).
constexpr Role stream_opener(uint32_t id) noexcept {
  return is_client_stream(id) ? Role::client : Role::server;
}

/// Enforces §3 for the streams one side opens: correct parity, strictly increasing ids (gaps
/// allowed), so no id is ever reused. Track the peer's OPENs with one of these per session.
/// Plain value type; no allocation.
class StreamIdTracker {
 public:
  /// `opener` is the side whose OPEN frames this tracker checks.
  explicit StreamIdTracker(Role opener) noexcept : opener_(opener) {}

  /// Accepts an OPEN on `id`, or fails with protocol_error on wrong parity (including 0),
  /// reuse or an id below the last one. A failed call changes nothing.
  [[nodiscard]] Result<void> on_open(uint32_t id) noexcept;

  /// True if `id` has this opener's parity and was opened already or skipped over: a non-OPEN
  /// frame on a peer stream for which this is false names a stream that was never opened.
  bool seen(uint32_t id) const noexcept;

  /// The highest id opened so far (0 if none).
  uint32_t last() const noexcept { return last_; }

 private:
  Role opener_;
  uint32_t last_ = 0;
};

}  // namespace ringtunnel::protocol
