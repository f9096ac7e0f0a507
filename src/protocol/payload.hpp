// SPDX-License-Identifier: MIT
// Typed frame payloads (docs/protocol.md §3): OPEN .. CLOSE, their decoders and encoders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "protocol/frame.hpp"
#include "protocol/reason.hpp"
#include "protocol/wire.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::protocol {

// Everything here is a pure function of its arguments (classes hold only their own state):
// any thread may call it, and nothing does I/O, crypto or, on the decode side, allocation.

/// OPEN.kind for a TCP stream.
inline constexpr uint8_t kOpenKindTcp = 1;
/// OPEN.kind for a policy check: "would a TCP stream to host:port be accepted?" The peer
/// answers OPEN_OK or OPEN_REFUSED without connecting anywhere, and the stream ends there.
inline constexpr uint8_t kOpenKindTcpCheck = 2;
/// OPEN.kind for a UDP flow: each DATA frame is one datagram (docs/protocol.md §3).
inline constexpr uint8_t kOpenKindUdp = 3;
/// OPEN.kind for a policy check of a UDP flow (as kOpenKindTcpCheck).
inline constexpr uint8_t kOpenKindUdpCheck = 4;

/// OPEN.kind for an exposure (client to server only): "listen on TCP `port` (on `host`, or
/// the server's expose address when empty) and open a stream to me for each visitor". The
/// server answers OPEN_OK once it listens or OPEN_REFUSED, and the stream ends there; the
/// listener lives as long as the session (docs/protocol.md §3).
inline constexpr uint8_t kOpenKindTcpExpose = 5;
/// OPEN.kind for a UDP exposure: each visitor source address becomes a UDP flow to the client.
inline constexpr uint8_t kOpenKindUdpExpose = 6;

/// OPEN.kind for an HTTP ingress name (client to server only): "route requests whose Host is
/// `tunnel` (NAME, or NAME.<the server's domain>) to me". `host` is empty and `port` 0. Each
/// visitor connection then comes as a TCP stream (kind 1) whose tunnel is "http:NAME".
inline constexpr uint8_t kOpenKindHttpExpose = 7;
/// OPEN.kind for a TLS ingress name: "route TLS connections whose SNI is `tunnel` to me";
/// each comes as a TCP stream whose tunnel is "tls:NAME", its bytes passed through untouched.
inline constexpr uint8_t kOpenKindTlsExpose = 8;

/// True for the kinds version 1 defines (TCP, TCP check, UDP, UDP check, the four exposures).
constexpr bool is_known_open_kind(uint8_t kind) noexcept {
  return kind >= kOpenKindTcp && kind <= kOpenKindTlsExpose;
}
/// True for the two check kinds, which open nothing.
constexpr bool is_check_kind(uint8_t kind) noexcept {
  return kind == kOpenKindTcpCheck || kind == kOpenKindUdpCheck;
}
/// True for the exposure kinds (ports and ingress names).
constexpr bool is_expose_kind(uint8_t kind) noexcept {
  return kind >= kOpenKindTcpExpose && kind <= kOpenKindTlsExpose;
}
/// True for the two ingress name kinds.
constexpr bool is_ingress_kind(uint8_t kind) noexcept {
  return kind == kOpenKindHttpExpose || kind == kOpenKindTlsExpose;
}
/// True for the kinds answered with OPEN_OK or OPEN_REFUSED alone (checks, exposures): no
/// DATA, no FIN, and they do not count against max_streams.
constexpr bool is_request_kind(uint8_t kind) noexcept {
  return is_check_kind(kind) || is_expose_kind(kind);
}

// Payload structs. String fields are views: after decode they point into the payload (valid
// as long as the record plaintext is); for encode they point wherever the caller likes.

/// OPEN: ask the peer to connect `host:port` for tunnel `tunnel`, granting `window` credit.
struct Open {
  static constexpr FrameType kType = FrameType::open;
  uint8_t kind = kOpenKindTcp;
  uint32_t window = kDefaultWindow;
  uint16_t port = 0;
  std::string_view host;
  std::string_view tunnel;
  bool operator==(const Open&) const = default;
};

/// OPEN_OK: the stream is connected; the opener may send `window` bytes.
struct OpenOk {
  static constexpr FrameType kType = FrameType::open_ok;
  uint32_t window = kDefaultWindow;
  bool operator==(const OpenOk&) const = default;
};

/// OPEN_REFUSED: the stream was not opened, and why.
struct OpenRefused {
  static constexpr FrameType kType = FrameType::open_refused;
  Reason reason = Reason::internal_error;
  std::string_view message;
  bool operator==(const OpenRefused&) const = default;
};

/// WINDOW: `increment` bytes of credit returned (1 .. kMaxWindow).
struct Window {
  static constexpr FrameType kType = FrameType::window;
  uint32_t increment = 0;
  bool operator==(const Window&) const = default;
};

/// FIN: no more DATA from the sender on this stream (empty payload).
struct Fin {
  static constexpr FrameType kType = FrameType::fin;
  bool operator==(const Fin&) const = default;
};

/// RESET: abort both directions of the stream.
struct Reset {
  static constexpr FrameType kType = FrameType::reset;
  Reason reason = Reason::stream_reset;
  bool operator==(const Reset&) const = default;
};

/// PING: the peer answers with a PONG carrying the same `opaque`.
struct Ping {
  static constexpr FrameType kType = FrameType::ping;
  uint64_t opaque = 0;
  bool operator==(const Ping&) const = default;
};

/// PONG: the answer to a PING.
struct Pong {
  static constexpr FrameType kType = FrameType::pong;
  uint64_t opaque = 0;
  bool operator==(const Pong&) const = default;
};

/// GOAWAY: no new streams; streams up to `last_stream` finish.
struct GoAway {
  static constexpr FrameType kType = FrameType::goaway;
  uint32_t last_stream = 0;
  Reason reason = Reason::going_away;
  std::string_view message;
  bool operator==(const GoAway&) const = default;
};

/// KEY_UPDATE: the sender's next record uses the next key (empty payload).
struct KeyUpdate {
  static constexpr FrameType kType = FrameType::key_update;
  bool operator==(const KeyUpdate&) const = default;
};

/// CLOSE: the authenticated end of the session.
struct Close {
  static constexpr FrameType kType = FrameType::close;
  Reason reason = Reason::ok;
  std::string_view message;
  bool operator==(const Close&) const = default;
};

// ---- decode: the payload of a FrameView of the matching type --------------------------------
//
// Errors (protocol_error unless noted): a field cut off ("OPEN is truncated in host"), bytes
// after the last field, a str8 that is not UTF-8, OPEN kind other than 1, WINDOW increment 0,
// a non-empty FIN / KEY_UPDATE payload, and (flow_control) a window or increment above
// kMaxWindow. Reason fields are taken as sent, known to §5 or not. No allocation.

[[nodiscard]] Result<Open> decode_open(std::span<const std::byte> payload) noexcept;
[[nodiscard]] Result<OpenOk> decode_open_ok(std::span<const std::byte> payload) noexcept;
[[nodiscard]] Result<OpenRefused> decode_open_refused(std::span<const std::byte> payload) noexcept;
[[nodiscard]] Result<Window> decode_window(std::span<const std::byte> payload) noexcept;
[[nodiscard]] Result<Fin> decode_fin(std::span<const std::byte> payload) noexcept;
[[nodiscard]] Result<Reset> decode_reset(std::span<const std::byte> payload) noexcept;
[[nodiscard]] Result<Ping> decode_ping(std::span<const std::byte> payload) noexcept;
[[nodiscard]] Result<Pong> decode_pong(std::span<const std::byte> payload) noexcept;
[[nodiscard]] Result<GoAway> decode_goaway(std::span<const std::byte> payload) noexcept;
[[nodiscard]] Result<KeyUpdate> decode_key_update(std::span<const std::byte> payload) noexcept;
[[nodiscard]] Result<Close> decode_close(std::span<const std::byte> payload) noexcept;

// ---- encode: header and payload appended to a ByteWriter -------------------------------------
//
// Each checks what the matching decoder checks (so we never send what a peer must reject) plus
// the frame's scope (stream frames need stream_id != 0, session frames stream_id == 0), then
// appends kFrameHeaderSize + payload bytes. A writer over a fixed span that runs out of room
// gives internal_error; what was written so far must then be discarded.

[[nodiscard]] Result<void> append_frame(ByteWriter& out, uint32_t stream_id,
                                        const Open& p) noexcept;
[[nodiscard]] Result<void> append_frame(ByteWriter& out, uint32_t stream_id,
                                        const OpenOk& p) noexcept;
[[nodiscard]] Result<void> append_frame(ByteWriter& out, uint32_t stream_id,
                                        const OpenRefused& p) noexcept;
[[nodiscard]] Result<void> append_frame(ByteWriter& out, uint32_t stream_id,
                                        const Window& p) noexcept;
[[nodiscard]] Result<void> append_frame(ByteWriter& out, uint32_t stream_id, const Fin& p) noexcept;
[[nodiscard]] Result<void> append_frame(ByteWriter& out, uint32_t stream_id,
                                        const Reset& p) noexcept;
[[nodiscard]] Result<void> append_frame(ByteWriter& out, uint32_t stream_id,
                                        const Ping& p) noexcept;
[[nodiscard]] Result<void> append_frame(ByteWriter& out, uint32_t stream_id,
                                        const Pong& p) noexcept;
[[nodiscard]] Result<void> append_frame(ByteWriter& out, uint32_t stream_id,
                                        const GoAway& p) noexcept;
[[nodiscard]] Result<void> append_frame(ByteWriter& out, uint32_t stream_id,
                                        const KeyUpdate& p) noexcept;
[[nodiscard]] Result<void> append_frame(ByteWriter& out, uint32_t stream_id,
                                        const Close& p) noexcept;

/// DATA: up to kMaxFramePayload bytes on a stream (the peer's max_frame and the stream's credit
/// are the session's to check). frame_too_large above kMaxFramePayload.
[[nodiscard]] Result<void> append_data_frame(ByteWriter& out, uint32_t stream_id,
                                             std::span<const std::byte> data) noexcept;

/// Payload bytes the encoding of `p` takes (add kFrameHeaderSize for the whole frame). Assumes
/// string fields within their limits.
std::size_t payload_size(const Open& p) noexcept;
std::size_t payload_size(const OpenRefused& p) noexcept;
std::size_t payload_size(const GoAway& p) noexcept;
std::size_t payload_size(const Close& p) noexcept;
constexpr std::size_t payload_size(const OpenOk&) noexcept {
  return 4;
}
constexpr std::size_t payload_size(const Window&) noexcept {
  return 4;
}
constexpr std::size_t payload_size(const Fin&) noexcept {
  return 0;
}
constexpr std::size_t payload_size(const Reset&) noexcept {
  return 2;
}
constexpr std::size_t payload_size(const Ping&) noexcept {
  return 8;
}
constexpr std::size_t payload_size(const Pong&) noexcept {
  return 8;
}
constexpr std::size_t payload_size(const KeyUpdate&) noexcept {
  return 0;
}

/// decode_open, decode_ping, ... picked by payload type: `decode_payload<Ping>(frame.payload)`.
template <typename P>
[[nodiscard]] Result<P> decode_payload(std::span<const std::byte> payload) noexcept {
  if constexpr (std::is_same_v<P, Open>)
    return decode_open(payload);
  else if constexpr (std::is_same_v<P, OpenOk>)
    return decode_open_ok(payload);
  else if constexpr (std::is_same_v<P, OpenRefused>)
    return decode_open_refused(payload);
  else if constexpr (std::is_same_v<P, Window>)
    return decode_window(payload);
  else if constexpr (std::is_same_v<P, Fin>)
    return decode_fin(payload);
  else if constexpr (std::is_same_v<P, Reset>)
    return decode_reset(payload);
  else if constexpr (std::is_same_v<P, Ping>)
    return decode_ping(payload);
  else if constexpr (std::is_same_v<P, Pong>)
    return decode_pong(payload);
  else if constexpr (std::is_same_v<P, GoAway>)
    return decode_goaway(payload);
  else if constexpr (std::is_same_v<P, KeyUpdate>)
    return decode_key_update(payload);
  else if constexpr (std::is_same_v<P, Close>)
    return decode_close(payload);
  else
    static_assert(sizeof(P) == 0, "not a frame payload type");
}

}  // namespace ringtunnel::protocol
