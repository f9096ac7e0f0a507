// SPDX-License-Identifier: MIT
// Handshake messages (docs/protocol.md §1): ClientHello, ServerHello, ClientAuth, AuthResult.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/limits.hpp"
#include "protocol/reason.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::protocol {

// Everything here is a pure function of its arguments: any thread may call it, and nothing does
// I/O or crypto. Unlike the frame codec, messages own their fields (aeads, strings) and so
// allocate: the handshake happens once per connection, not per record.

using Bytes32 = std::array<std::byte, 32>;
using Bytes64 = std::array<std::byte, 64>;

/// The first four bytes of both hellos: "RTUN".
inline constexpr std::array<std::byte, 4> kMagic = {std::byte{'R'}, std::byte{'T'}, std::byte{'U'},
                                                    std::byte{'N'}};

/// AEAD ids negotiated in the hellos. A ClientHello may list ids this enum does not name.
enum class Aead : uint8_t { aes_256_gcm = 1, chacha20_poly1305 = 2 };

/// ServerHello's fixed size, and its size without the trailing signature (the signed part).
inline constexpr std::size_t kServerHelloSize = 4 + 1 + 1 + 32 + 32 + 32 + 64;
inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kServerHelloSignedSize = kServerHelloSize - kSignatureSize;

/// Labels of §1. Signatures cover `label || 0x00 || 32-byte digest` (see signature_input);
/// the token key is H(kTokenLabel || token), with no separator.
inline constexpr std::string_view kServerSignatureLabel = "ringtunnel v1 server";
inline constexpr std::string_view kClientSignatureLabel = "ringtunnel v1 client";
/// The TLS transport's ClientAuth signs this label and the TLS exporter value (protocol.md §6),
/// so a signature made for one transport is never accepted by the other. (Labels are 20 bytes.)
inline constexpr std::string_view kTlsClientSignatureLabel = "ringtunnel v1 tlscli";
static_assert(kTlsClientSignatureLabel.size() == kClientSignatureLabel.size());
/// The RFC 8446 §7.5 exporter label whose 32 bytes stand in for th1 on the TLS transport.
inline constexpr std::string_view kTlsExporterLabel = "EXPORTER-ringtunnel-v1-client-auth";
inline constexpr std::string_view kTokenLabel = "ringtunnel v1 token";
/// Both signature labels are 20 bytes, so every signature input is 53 bytes.
inline constexpr std::size_t kSignatureInputSize = 20 + 1 + 32;

/// Sent first by the client, in plaintext. The magic is implied.
struct ClientHello {
  uint8_t min_version = kProtocolVersion;
  uint8_t max_version = kProtocolVersion;
  Bytes32 client_random{};
  Bytes32 client_ephemeral{};  ///< X25519 public key
  std::vector<Aead> aeads;     ///< 1..8, in preference order
  bool operator==(const ClientHello&) const = default;
};

/// The server's answer, in plaintext, signed by its identity key. A refusal has version 0, the
/// reason code in `aead` and every other field zero (make_refusal, is_refusal).
struct ServerHello {
  uint8_t version = kProtocolVersion;
  Aead aead = Aead::aes_256_gcm;
  Bytes32 server_random{};
  Bytes32 server_ephemeral{};  ///< X25519 public key
  Bytes32 server_identity{};   ///< Ed25519 public key
  Bytes64 signature{};
  bool operator==(const ServerHello&) const = default;
};

/// The refusal ServerHello for `reason` (which must not be ok). A reason above 255, which
/// does not fit the u8, becomes internal_error.
ServerHello make_refusal(Reason reason) noexcept;
/// True for a ServerHello with version 0.
constexpr bool is_refusal(const ServerHello& hello) noexcept {
  return hello.version == 0;
}
/// The reason a refusal carries (meaningful only if is_refusal).
constexpr Reason refusal_reason(const ServerHello& hello) noexcept {
  return static_cast<Reason>(static_cast<uint8_t>(hello.aead));
}

/// The client's authentication, the plaintext of record 0 under the c2s handshake key.
struct ClientAuth {
  Bytes32 client_identity{};         ///< Ed25519 public key
  Bytes64 signature{};               ///< over signature_input(kClientSignatureLabel, th1)
  std::optional<Bytes32> token_mac;  ///< token_mac_present = 1 when set
  std::string client_name;           ///< UTF-8, at most kMaxClientName bytes
  bool operator==(const ClientAuth&) const = default;
};

/// The server's verdict, the plaintext of record 0 under the s2c handshake key. The limits are
/// validated only when status is ok (a refusal's numbers mean nothing).
struct AuthResult {
  Reason status = Reason::ok;
  std::string message;                       ///< UTF-8, at most 255 bytes
  uint32_t max_frame = kMaxFramePayload;     ///< 1..kMaxFramePayload
  uint32_t initial_window = kDefaultWindow;  ///< at most kMaxWindow
  uint32_t max_streams = kMaxStreams;
  uint32_t heartbeat_ms = static_cast<uint32_t>(kDefaultHeartbeat.count());  ///< at least 1
  bool operator==(const AuthResult&) const = default;
};

// ---- encode: the message body, after checking what the matching decoder checks ------------
// Errors: handshake_malformed naming the field (e.g. "ClientAuth client_name is 80 bytes; the
// limit is 64"). Allocates the returned body (the handshake is not the data path).

[[nodiscard]] Result<std::vector<std::byte>> encode(const ClientHello& hello);
[[nodiscard]] Result<std::vector<std::byte>> encode(const ServerHello& hello);
[[nodiscard]] Result<std::vector<std::byte>> encode(const ClientAuth& auth);
[[nodiscard]] Result<std::vector<std::byte>> encode(const AuthResult& result);

// ---- decode: a whole message body --------------------------------------------------------
// Errors: handshake_malformed naming what was wrong: a field cut off, trailing bytes, bad
// magic, min_version 0 or above max_version, aead_count outside 1..8, token_mac_present not
// 0/1, client_name over 64 bytes, a str8 that is not UTF-8, a malformed refusal, AuthResult
// limits out of range. Versions and AEADs are not negotiated here: the caller compares them.

[[nodiscard]] Result<ClientHello> decode_client_hello(std::span<const std::byte> body);
[[nodiscard]] Result<ServerHello> decode_server_hello(std::span<const std::byte> body);
[[nodiscard]] Result<ClientAuth> decode_client_auth(std::span<const std::byte> body);
[[nodiscard]] Result<AuthResult> decode_auth_result(std::span<const std::byte> body);

// ---- plaintext framing and signature inputs ------------------------------------------------

/// The body length announced by the `u16 length` prefix of a plaintext handshake message:
/// 1..kMaxHandshakeMessage, else handshake_malformed. Check before reading the body.
[[nodiscard]] Result<std::size_t> handshake_message_length(
    std::span<const std::byte, kHandshakeLengthSize> prefix) noexcept;

/// `u16 length || body`, ready to send; handshake_malformed if body is empty or too long.
[[nodiscard]] Result<std::vector<std::byte>> frame_handshake_message(
    std::span<const std::byte> body);

/// The part of an encoded ServerHello body the signature covers (all but the last 64 bytes),
/// a view into `encoded_server_hello`. Empty unless the body is kServerHelloSize bytes long,
/// so a caller that skipped decoding hashes nothing useful and the signature check fails.
std::span<const std::byte> server_hello_signed_part(
    std::span<const std::byte> encoded_server_hello) noexcept;

/// `label || 0x00 || digest`: what Ed25519 signs. `label` is kServerSignatureLabel (digest =
/// H(ClientHello body || server_hello_signed_part)) or kClientSignatureLabel (digest = th1).
std::array<std::byte, kSignatureInputSize> signature_input(
    std::string_view label, std::span<const std::byte, 32> digest) noexcept;

}  // namespace ringtunnel::protocol
