// SPDX-License-Identifier: MIT
// The numeric limits and defaults of docs/protocol.md (§1, §2, §3, §4), in one place.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ringtunnel::protocol {

/// The only protocol version this codec speaks (ClientHello min/max, ServerHello version).
inline constexpr uint8_t kProtocolVersion = 1;

// ---- §1 handshake -------------------------------------------------------------------------

/// Size of the `u16 length` prefix of a plaintext handshake message.
inline constexpr std::size_t kHandshakeLengthSize = 2;
/// Largest plaintext handshake message body (ClientHello, ServerHello); larger:
/// handshake_malformed.
inline constexpr std::size_t kMaxHandshakeMessage = 1024;
/// A server closes a connection that has not finished the handshake by then (handshake_timeout).
inline constexpr std::chrono::seconds kHandshakeTimeout{10};
/// Bounds of ClientHello.aead_count.
inline constexpr std::size_t kMinAeadCount = 1;
inline constexpr std::size_t kMaxAeadCount = 8;
/// Longest ClientAuth.client_name, in bytes.
inline constexpr std::size_t kMaxClientName = 64;
/// Longest `str8` of any kind (its length is a u8).
inline constexpr std::size_t kMaxStr8 = 255;

// ---- §2 records ---------------------------------------------------------------------------

/// AEAD tag appended to every record's ciphertext.
inline constexpr std::size_t kTagSize = 16;
/// Largest record plaintext: one maximal frame payload plus room for frame headers.
inline constexpr std::size_t kMaxRecordPlaintext = 65536 + 1024;
/// Largest record `length` (ciphertext with tag): 66 576. Larger: frame_too_large.
inline constexpr std::size_t kMaxRecordCiphertext = kMaxRecordPlaintext + kTagSize;
/// Smallest record `length`: a tag and at least one plaintext byte. Smaller: protocol_error.
inline constexpr std::size_t kMinRecordCiphertext = kTagSize + 1;

// ---- §3 frames ----------------------------------------------------------------------------

/// Largest frame payload a receiver accepts (the default and ceiling of `max_frame`).
inline constexpr std::size_t kMaxFramePayload = 65536;
/// Largest credit a stream window may reach: 2^31 - 1.
inline constexpr uint32_t kMaxWindow = 0x7fff'ffffU;
/// Default initial per-stream credit (AuthResult.initial_window): 2 MiB, like OpenSSH's channel
/// window. Measured on loopback: 256 KiB stalled a single stream on credit (1/4 fewer bytes
/// per second, 3x the context switches); what a stalled reader can make the receiver hold is
/// bounded per session by kMaxBufferedBytesPerSession.
inline constexpr uint32_t kDefaultWindow = 2u << 20;
/// DATA an opener may send before OPEN_OK (early data): the accepter holds it until its
/// upstream connection is up. OPEN_OK windows are at least this large.
inline constexpr uint32_t kEarlyDataLimit = 4096;
/// Of a UDP flow's early data, the accepter keeps at most this many datagrams (later ones are
/// dropped, as UDP may drop; an opener sends no more than this early).
inline constexpr uint32_t kMaxEarlyDatagrams = 16;
/// The largest UDP payload over IPv4 (65,535 - 20 - 8); IPv6 allows 20 bytes more.
inline constexpr uint32_t kMaxDatagram = 65507;
/// A sender sends KEY_UPDATE before this many records on one key...
inline constexpr uint64_t kKeyUpdateRecords = uint64_t{1} << 24;
/// ...or before this long on one key, whichever comes first.
inline constexpr std::chrono::hours kKeyUpdateInterval{1};

// ---- §4 limits and AuthResult defaults ----------------------------------------------------

/// Default concurrent streams per session (AuthResult.max_streams; the server's --max-streams).
/// Large enough that one client's two sessions carry 10,000 streams; each costs the server
/// about a kilobyte of memory plus its socket.
inline constexpr uint32_t kMaxStreams = 8192;
/// Default PING interval the server expects (AuthResult.heartbeat_ms).
inline constexpr std::chrono::milliseconds kDefaultHeartbeat{15000};
/// Bytes one end buffers per session before closing with flow_control.
inline constexpr std::size_t kMaxBufferedBytesPerSession = std::size_t{64} << 20;
/// Unauthenticated connections a server holds at once; more: server_busy at accept.
inline constexpr std::size_t kMaxUnauthenticatedConnections = 256;
/// Failed authentications allowed per source address per kAuthFailureInterval (rate_limited).
inline constexpr std::size_t kMaxAuthFailures = 10;
inline constexpr std::chrono::minutes kAuthFailureInterval{1};

}  // namespace ringtunnel::protocol
