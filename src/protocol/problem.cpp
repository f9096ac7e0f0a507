// SPDX-License-Identifier: MIT
// Detailed protocol errors: packing into an error_code value and the text of each message.
#include "protocol/problem.hpp"

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>

#include "protocol/frame.hpp"

namespace ringtunnel::protocol {
namespace {

// An error_code value below 2^24 is a plain Reason. Above: problem << 24 | argument, where a
// field problem's argument is field << 18 | number. Problems stay below 128, so values are
// positive ints.
constexpr int kProblemShift = 24;
constexpr uint32_t kArgMask = (1U << kProblemShift) - 1;
constexpr int kFieldShift = 18;
constexpr uint32_t kFieldNumberMask = (1U << kFieldShift) - 1;

static_assert(static_cast<unsigned>(Problem::count_) < 128);
static_assert(static_cast<unsigned>(Field::count_) <= (1U << (kProblemShift - kFieldShift)));

struct FieldInfo {
  Field id;
  const char* message;  // "ClientHello"
  const char* field;    // "aead_count", or nullptr for the message itself
  const char* rule;     // what a valid value is, for bad_value / too_long, or nullptr
};

// clang-format off
constexpr FieldInfo kFields[] = {
    {Field::none, "message", nullptr, nullptr},
    {Field::client_hello, "ClientHello", nullptr, nullptr},
    {Field::client_hello_magic, "ClientHello", "magic", nullptr},
    {Field::client_hello_min_version, "ClientHello", "min_version", "at least 1"},
    {Field::client_hello_max_version, "ClientHello", "max_version", nullptr},
    {Field::client_hello_random, "ClientHello", "client_random", nullptr},
    {Field::client_hello_ephemeral, "ClientHello", "client_ephemeral", nullptr},
    {Field::client_hello_aead_count, "ClientHello", "aead_count", "1..8"},
    {Field::client_hello_aeads, "ClientHello", "aeads", nullptr},
    {Field::server_hello, "ServerHello", nullptr, nullptr},
    {Field::server_hello_magic, "ServerHello", "magic", nullptr},
    {Field::server_hello_version, "ServerHello", "version", nullptr},
    {Field::server_hello_aead, "ServerHello", "aead", "an AEAD id (non-zero)"},
    {Field::server_hello_random, "ServerHello", "server_random", nullptr},
    {Field::server_hello_ephemeral, "ServerHello", "server_ephemeral", nullptr},
    {Field::server_hello_identity, "ServerHello", "server_identity", nullptr},
    {Field::server_hello_signature, "ServerHello", "signature", nullptr},
    {Field::client_auth, "ClientAuth", nullptr, nullptr},
    {Field::client_auth_identity, "ClientAuth", "client_identity", nullptr},
    {Field::client_auth_signature, "ClientAuth", "signature", nullptr},
    {Field::client_auth_token_mac_present, "ClientAuth", "token_mac_present", "0 or 1"},
    {Field::client_auth_token_mac, "ClientAuth", "token_mac", nullptr},
    {Field::client_auth_name, "ClientAuth", "client_name", "64"},
    {Field::auth_result, "AuthResult", nullptr, nullptr},
    {Field::auth_result_status, "AuthResult", "status", nullptr},
    {Field::auth_result_message, "AuthResult", "message", "255"},
    {Field::auth_result_max_frame, "AuthResult", "max_frame", "1..65536"},
    {Field::auth_result_initial_window, "AuthResult", "initial_window", nullptr},
    {Field::auth_result_max_streams, "AuthResult", "max_streams", nullptr},
    {Field::auth_result_heartbeat_ms, "AuthResult", "heartbeat_ms", "at least 1"},
    {Field::open, "OPEN", nullptr, nullptr},
    {Field::open_kind, "OPEN", "kind",
     "1 (TCP), 2 (TCP check), 3 (UDP), 4 (UDP check), 5 (TCP expose), 6 (UDP expose), "
     "7 (HTTP name) or 8 (TLS name)"},
    {Field::open_window, "OPEN", "window", nullptr},
    {Field::open_port, "OPEN", "port", nullptr},
    {Field::open_host, "OPEN", "host", "255"},
    {Field::open_tunnel, "OPEN", "tunnel", "255"},
    {Field::open_ok, "OPEN_OK", nullptr, nullptr},
    {Field::open_ok_window, "OPEN_OK", "window", nullptr},
    {Field::open_refused, "OPEN_REFUSED", nullptr, nullptr},
    {Field::open_refused_reason, "OPEN_REFUSED", "reason", nullptr},
    {Field::open_refused_message, "OPEN_REFUSED", "message", "255"},
    {Field::window, "WINDOW", nullptr, nullptr},
    {Field::window_increment, "WINDOW", "increment", "1..2147483647"},
    {Field::fin, "FIN", nullptr, nullptr},
    {Field::reset, "RESET", nullptr, nullptr},
    {Field::reset_reason, "RESET", "reason", nullptr},
    {Field::ping, "PING", nullptr, nullptr},
    {Field::ping_opaque, "PING", "opaque", nullptr},
    {Field::pong, "PONG", nullptr, nullptr},
    {Field::pong_opaque, "PONG", "opaque", nullptr},
    {Field::goaway, "GOAWAY", nullptr, nullptr},
    {Field::goaway_last_stream, "GOAWAY", "last_stream", nullptr},
    {Field::goaway_reason, "GOAWAY", "reason", nullptr},
    {Field::goaway_message, "GOAWAY", "message", "255"},
    {Field::key_update, "KEY_UPDATE", nullptr, nullptr},
    {Field::close, "CLOSE", nullptr, nullptr},
    {Field::close_reason, "CLOSE", "reason", nullptr},
    {Field::close_message, "CLOSE", "message", "255"},
};
// clang-format on

constexpr bool fields_in_order() noexcept {
  for (std::size_t i = 0; i < std::size(kFields); ++i) {
    if (static_cast<std::size_t>(kFields[i].id) != i) return false;
  }
  return std::size(kFields) == static_cast<std::size_t>(Field::count_);
}
static_assert(fields_in_order(), "kFields must list every Field, in enum order");

FieldInfo field_info(Field field) noexcept {
  const auto index = static_cast<std::size_t>(field);
  if (index < std::size(kFields)) return kFields[index];
  return {field, "message", "(unknown field)", nullptr};
}

bool is_field_problem(Problem problem) noexcept {
  return problem >= Problem::truncated && problem <= Problem::over_window;
}

Reason field_reason(Field field) noexcept {
  return field <= Field::auth_result_heartbeat_ms ? Reason::handshake_malformed
                                                  : Reason::protocol_error;
}

Reason problem_reason(Problem problem, Field field) noexcept {
  switch (problem) {
    case Problem::over_window:
      // A window beyond 2^31 - 1 in a frame is a flow-control breach; in AuthResult, a
      // malformed handshake.
      return field_reason(field) == Reason::handshake_malformed ? Reason::handshake_malformed
                                                                : Reason::flow_control;
    case Problem::handshake_length_zero:
    case Problem::handshake_too_long:
    case Problem::version_range:
    case Problem::refusal_without_reason:
      return Reason::handshake_malformed;
    case Problem::record_too_long:
    case Problem::frame_too_large:
      return Reason::frame_too_large;
    case Problem::output_too_small:
    case Problem::none:
    case Problem::count_:
      return Reason::internal_error;
    default:
      break;
  }
  return is_field_problem(problem) ? field_reason(field) : Reason::protocol_error;
}

// Prints a number, or "more than N" when it was saturated at `saturated` on the way in.
std::string number(uint32_t value, uint32_t saturated) {
  if (value >= saturated) return "more than " + std::to_string(saturated - 1);
  return std::to_string(value);
}

std::string describe_field_problem(Problem problem, Field field, uint32_t value) {
  const FieldInfo info = field_info(field);
  const std::string subject =
      std::string(info.message) + (info.field ? std::string(" ") + info.field : "");
  const std::string n = number(value, kFieldNumberMask);
  const std::string rule = info.rule ? info.rule : "valid";
  switch (problem) {
    case Problem::truncated:
      return info.field ? std::string(info.message) + " is truncated in " + info.field
                        : subject + " is truncated";
    case Problem::trailing_bytes:
      return subject + " has " + n + (value == 1 ? " trailing byte" : " trailing bytes");
    case Problem::not_empty:
      return subject + " payload is " + n + " bytes; it must be empty";
    case Problem::bad_value:
      return subject + " is " + n + "; it must be " + rule;
    case Problem::too_long:
      return subject + " is " + n + " bytes; the limit is " + rule;
    case Problem::not_utf8:
      return subject + " is not valid UTF-8";
    case Problem::bad_magic:
      return subject + " is not RTUN";
    case Problem::not_zero:
      return subject + " is not zero in a refusal";
    case Problem::over_window:
      return subject + " exceeds 2147483647, the largest window";
    default:
      break;
  }
  return subject + " is invalid";
}

std::string frame_name(uint32_t type) {
  return std::string(to_string(static_cast<FrameType>(type))) + " (type " + std::to_string(type) +
         ")";
}

std::string describe_problem(Problem problem, uint32_t value) {
  const std::string n = number(value, kArgMask);
  switch (problem) {
    case Problem::handshake_length_zero:
      return "handshake message length is 0";
    case Problem::handshake_too_long:
      return "handshake message is " + n + " bytes; the limit is 1024";
    case Problem::version_range:
      return "ClientHello min_version " + std::to_string(value >> 8) + " is above max_version " +
             std::to_string(value & 0xff);
    case Problem::refusal_without_reason:
      return "ServerHello is a refusal (version 0) with reason 0 (ok)";
    case Problem::record_too_short:
      return "record length is " + n + "; the minimum is 17";
    case Problem::record_too_long:
      return "record length is " + n + "; the limit is 66576";
    case Problem::record_empty:
      return "record plaintext holds no frames";
    case Problem::frame_header_truncated:
      return "frame header is truncated: " + n + " of 10 bytes left";
    case Problem::frame_type_unknown:
      return "frame type " + n + " is unknown";
    case Problem::frame_flags:
      return "frame flags are " + n + "; version 1 defines none";
    case Problem::stream_frame_on_session:
      return "stream frame " + frame_name(value) + " on stream 0";
    case Problem::session_frame_on_stream:
      return "session frame " + frame_name(value) + " on a stream; it belongs on stream 0";
    case Problem::frame_too_large:
      return "frame payload is " + n + " bytes; the limit is 65536";
    case Problem::frame_payload_truncated:
      return "frame payload of " + n + " bytes runs past the record's end";
    case Problem::client_stream_even:
      return "client opened stream " + n + "; client streams are odd";
    case Problem::server_stream_odd:
      return "server opened stream " + n + "; server streams are even and non-zero";
    case Problem::stream_not_increasing:
      return "stream " + n + " was reused or opened out of order; ids must increase";
    case Problem::output_too_small:
      return "the output buffer is too small for the encoding";
    default:
      break;
  }
  return "unknown protocol problem " + std::to_string(static_cast<unsigned>(problem));
}

}  // namespace

std::error_code make_error(Problem problem, Field field, uint64_t number) noexcept {
  const uint32_t n = number < kFieldNumberMask ? static_cast<uint32_t>(number) : kFieldNumberMask;
  const uint32_t arg = static_cast<uint32_t>(field) << kFieldShift | n;
  return {static_cast<int>(static_cast<uint32_t>(problem) << kProblemShift | arg),
          protocol_category()};
}

std::error_code make_error(Problem problem, uint64_t number) noexcept {
  const uint32_t arg = number < kArgMask ? static_cast<uint32_t>(number) : kArgMask;
  return {static_cast<int>(static_cast<uint32_t>(problem) << kProblemShift | arg),
          protocol_category()};
}

Reason reason_of_value(int value) noexcept {
  const auto bits = static_cast<uint32_t>(value);
  const auto problem = static_cast<Problem>(bits >> kProblemShift);
  if (problem == Problem::none) return static_cast<Reason>(bits);
  if (problem >= Problem::count_) return Reason::internal_error;
  return problem_reason(problem, static_cast<Field>((bits & kArgMask) >> kFieldShift));
}

std::string describe_value(int value) {
  const auto bits = static_cast<uint32_t>(value);
  const auto problem = static_cast<Problem>(bits >> kProblemShift);
  const Reason reason = reason_of_value(value);
  if (problem == Problem::none) {
    if (is_known(reason)) return to_string(reason);
    return "unknown reason " + std::to_string(bits);
  }
  const uint32_t arg = bits & kArgMask;
  std::string text = is_field_problem(problem)
                         ? describe_field_problem(problem, static_cast<Field>(arg >> kFieldShift),
                                                  arg & kFieldNumberMask)
                         : describe_problem(problem, arg);
  return text + " (" + to_string(reason) + ")";
}

}  // namespace ringtunnel::protocol
