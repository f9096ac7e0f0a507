// SPDX-License-Identifier: MIT
// What session.cpp and session_end.cpp share: limits and small conversions (internal).
#pragma once

#include <chrono>
#include <string_view>
#include <system_error>

#include "protocol/reason.hpp"
#include "protocol/wire.hpp"

namespace ringtunnel::tunnel::detail {

// How long a closing session may take to get its CLOSE out before the socket is cut.
inline constexpr std::chrono::seconds kCloseFlushLimit{5};

inline std::error_code reason_code(protocol::Reason reason) noexcept {
  return protocol::make_error_code(reason);
}

// A message fit for a str8: at most 255 bytes, cut on a UTF-8 boundary.
inline std::string_view fit_str8(std::string_view text) noexcept {
  text = text.substr(0, protocol::kMaxStr8);
  while (!text.empty() && !protocol::is_valid_utf8(text)) text.remove_suffix(1);
  return text;
}

}  // namespace ringtunnel::tunnel::detail
