// SPDX-License-Identifier: MIT
// Reason names and the protocol error category.
#include "protocol/reason.hpp"

#include <string>
#include <string_view>

#include "protocol/problem.hpp"

namespace ringtunnel::protocol {
namespace {

class ProtocolCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ringtunnel.protocol"; }
  std::string message(int value) const override { return describe_value(value); }
};

}  // namespace

const char* to_string(Reason reason) noexcept {
  switch (reason) {
    case Reason::ok:
      return "ok";
    case Reason::protocol_error:
      return "protocol_error";
    case Reason::handshake_malformed:
      return "handshake_malformed";
    case Reason::handshake_timeout:
      return "handshake_timeout";
    case Reason::version_unsupported:
      return "version_unsupported";
    case Reason::aead_unsupported:
      return "aead_unsupported";
    case Reason::decrypt_failed:
      return "decrypt_failed";
    case Reason::bad_signature:
      return "bad_signature";
    case Reason::unknown_key:
      return "unknown_key";
    case Reason::bad_token:
      return "bad_token";
    case Reason::identity_changed:
      return "identity_changed";
    case Reason::internal_error:
      return "internal_error";
    case Reason::idle_timeout:
      return "idle_timeout";
    case Reason::port_not_allowed:
      return "port_not_allowed";
    case Reason::host_not_allowed:
      return "host_not_allowed";
    case Reason::connect_refused:
      return "connect_refused";
    case Reason::connect_failed:
      return "connect_failed";
    case Reason::too_many_streams:
      return "too_many_streams";
    case Reason::server_full:
      return "server_full";
    case Reason::going_away:
      return "going_away";
    case Reason::flow_control:
      return "flow_control";
    case Reason::frame_too_large:
      return "frame_too_large";
    case Reason::server_busy:
      return "server_busy";
    case Reason::rate_limited:
      return "rate_limited";
    case Reason::stream_reset:
      return "stream_reset";
    case Reason::shutting_down:
      return "shutting_down";
    case Reason::certificate_rejected:
      return "certificate_rejected";
    case Reason::tls_failed:
      return "tls_failed";
    case Reason::port_in_use:
      return "port_in_use";
    case Reason::port_claimed:
      return "port_claimed";
    case Reason::name_claimed:
      return "name_claimed";
    case Reason::name_reserved:
      return "name_reserved";
    case Reason::no_ingress:
      return "no_ingress";
  }
  return "unknown";
}

bool is_known(Reason reason) noexcept {
  return std::string_view(to_string(reason)) != "unknown";
}

const std::error_category& protocol_category() noexcept {
  static const ProtocolCategory category;
  return category;
}

std::error_code make_error_code(Reason reason) noexcept {
  return {static_cast<int>(reason), protocol_category()};
}

Reason reason_of(const std::error_code& code) noexcept {
  if (!code) return Reason::ok;
  if (code.category() != protocol_category()) return Reason::internal_error;
  return reason_of_value(code.value());
}

}  // namespace ringtunnel::protocol
