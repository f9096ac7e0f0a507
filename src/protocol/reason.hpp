// SPDX-License-Identifier: MIT
// Reason: the protocol's reason codes (docs/protocol.md §5) and their std::error_code category.
#pragma once

#include <cstdint>
#include <system_error>
#include <type_traits>

namespace ringtunnel::protocol {

/// A reason code as it travels on the wire (u16; u8 in a refusal ServerHello).
///
/// Values a peer sends are carried as they are, so a Reason may hold a number that is not one
/// of the enumerators below (to_string() then says "unknown"): a peer that explains a refusal
/// with a code we do not know still ends the stream or session it ends.
enum class Reason : uint16_t {
  ok = 0,
  protocol_error = 1,
  handshake_malformed = 2,
  handshake_timeout = 3,
  version_unsupported = 4,
  aead_unsupported = 5,
  decrypt_failed = 6,
  bad_signature = 7,
  unknown_key = 8,
  bad_token = 9,
  identity_changed = 10,  ///< client side only
  internal_error = 11,
  idle_timeout = 12,
  port_not_allowed = 16,
  host_not_allowed = 17,
  connect_refused = 18,
  connect_failed = 19,
  too_many_streams = 20,
  server_full = 21,
  going_away = 22,
  flow_control = 23,
  frame_too_large = 24,
  server_busy = 25,
  rate_limited = 26,
  stream_reset = 27,
  shutting_down = 28,
  certificate_rejected = 29,  ///< TLS transport: a certificate did not verify
  tls_failed = 30,            ///< TLS transport: the TLS handshake or a record failed
  port_in_use = 31,           ///< an exposure: something else on the server holds the port
  port_claimed = 32,          ///< an exposure: another client's key holds the port
  name_claimed = 33,          ///< an ingress name: another client's key holds it
  name_reserved = 34,         ///< an ingress name: the server reserves it for another key
  no_ingress = 35,            ///< an ingress name: the server runs no such ingress
};

}  // namespace ringtunnel::protocol

/// Lets a Reason convert to std::error_code (through make_error_code below).
template <>
struct std::is_error_code_enum<ringtunnel::protocol::Reason> : std::true_type {};

namespace ringtunnel::protocol {

/// The name of a reason as docs/protocol.md spells it ("protocol_error"), or "unknown" for a
/// number §5 does not define. Never null; the string is static.
const char* to_string(Reason reason) noexcept;

/// True if §5 defines this code (13, 14 and 15 are unassigned).
bool is_known(Reason reason) noexcept;

/// The one category of protocol errors. Its name is "ringtunnel.protocol".
///
/// Values below 2^24 are plain reasons (make_error_code(Reason)); larger values are detailed
/// codes made by the decoders, which also carry what was wrong and the offending number, so
/// that `message()` reads e.g. "frame type 42 is unknown (protocol_error)".
const std::error_category& protocol_category() noexcept;

/// An error code holding just a reason; make_error_code(Reason::ok) is the empty code.
std::error_code make_error_code(Reason reason) noexcept;

/// The reason an error code stands for: the reason itself for protocol_category() codes
/// (plain or detailed), ok for an empty code, internal_error for any other category.
Reason reason_of(const std::error_code& code) noexcept;

/// `code == Reason::x` compares the reason only, so a detailed decode error equals the reason
/// it carries; an empty code equals Reason::ok. (Comparing two std::error_code values stays
/// exact, as the standard defines.)
inline bool operator==(const std::error_code& code, Reason reason) noexcept {
  return (!code || code.category() == protocol_category()) && reason_of(code) == reason;
}

}  // namespace ringtunnel::protocol
