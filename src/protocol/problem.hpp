// SPDX-License-Identifier: MIT
// Detailed protocol errors: which check failed, on which field, with which number.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include "protocol/reason.hpp"

namespace ringtunnel::protocol {

/// A message, or a field of one, as error messages name it ("OPEN host").
/// Fields up to and including auth_result_heartbeat_ms belong to handshake messages (their
/// errors carry handshake_malformed); the rest to frames (protocol_error).
enum class Field : uint8_t {
  none,
  client_hello,
  client_hello_magic,
  client_hello_min_version,
  client_hello_max_version,
  client_hello_random,
  client_hello_ephemeral,
  client_hello_aead_count,
  client_hello_aeads,
  server_hello,
  server_hello_magic,
  server_hello_version,
  server_hello_aead,
  server_hello_random,
  server_hello_ephemeral,
  server_hello_identity,
  server_hello_signature,
  client_auth,
  client_auth_identity,
  client_auth_signature,
  client_auth_token_mac_present,
  client_auth_token_mac,
  client_auth_name,
  auth_result,
  auth_result_status,
  auth_result_message,
  auth_result_max_frame,
  auth_result_initial_window,
  auth_result_max_streams,
  auth_result_heartbeat_ms,
  open,
  open_kind,
  open_window,
  open_port,
  open_host,
  open_tunnel,
  open_ok,
  open_ok_window,
  open_refused,
  open_refused_reason,
  open_refused_message,
  window,
  window_increment,
  fin,
  reset,
  reset_reason,
  ping,
  ping_opaque,
  pong,
  pong_opaque,
  goaway,
  goaway_last_stream,
  goaway_reason,
  goaway_message,
  key_update,
  close,
  close_reason,
  close_message,
  count_,  ///< not a field: the number of entries
};

/// Which check failed. The first group names a Field and a number below 2^18; the second
/// group a number below 2^24. Numbers that do not fit read "more than N" in the message.
enum class Problem : uint8_t {
  none,
  // With a Field (the reason is the field's: handshake_malformed or protocol_error).
  truncated,       ///< "ClientHello is truncated in aeads"
  trailing_bytes,  ///< "ClientHello has 3 trailing bytes"
  not_empty,       ///< "FIN payload is 2 bytes; it must be empty"
  bad_value,       ///< "ClientHello aead_count is 9; it must be 1..8"
  too_long,        ///< "OPEN host is 300 bytes; the limit is 255"
  not_utf8,        ///< "CLOSE message is not valid UTF-8"
  bad_magic,       ///< "ServerHello magic is not RTUN"
  not_zero,        ///< "ServerHello server_random is not zero in a refusal"
  over_window,     ///< flow_control in frames: "WINDOW increment exceeds 2147483647"
  // With a number only.
  handshake_length_zero,    ///< handshake_malformed
  handshake_too_long,       ///< handshake_malformed, number = length
  version_range,            ///< handshake_malformed, number = min << 8 | max
  refusal_without_reason,   ///< handshake_malformed
  record_too_short,         ///< protocol_error, number = length
  record_too_long,          ///< frame_too_large, number = length
  record_empty,             ///< protocol_error
  frame_header_truncated,   ///< protocol_error, number = bytes left
  frame_type_unknown,       ///< protocol_error, number = type
  frame_flags,              ///< protocol_error, number = flags
  stream_frame_on_session,  ///< protocol_error, number = type
  session_frame_on_stream,  ///< protocol_error, number = type
  frame_too_large,          ///< frame_too_large, number = payload length
  frame_payload_truncated,  ///< protocol_error, number = payload length
  client_stream_even,       ///< protocol_error, number = stream id
  server_stream_odd,        ///< protocol_error, number = stream id
  stream_not_increasing,    ///< protocol_error, number = stream id
  output_too_small,         ///< internal_error: a fixed output span cannot hold the encoding
  count_,                   ///< not a problem: the number of entries
};

/// A detailed error about a field (first group of Problem).
std::error_code make_error(Problem problem, Field field, uint64_t number = 0) noexcept;

/// A detailed error carrying a number (second group of Problem).
std::error_code make_error(Problem problem, uint64_t number = 0) noexcept;

/// The reason a protocol_category() value stands for (plain or detailed).
Reason reason_of_value(int value) noexcept;

/// The message for a protocol_category() value (what protocol_category().message() returns).
std::string describe_value(int value);

}  // namespace ringtunnel::protocol
