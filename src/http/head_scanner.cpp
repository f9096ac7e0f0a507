// SPDX-License-Identifier: MIT
// HeadScanner: line endings, limits, the version literal and header-name bytes of a request head.
#include "http/head_scanner.hpp"

#include <algorithm>
#include <string_view>

#include "http/head_rules.hpp"
#include "http/request_head.hpp"

namespace ringtunnel::http {
namespace {

constexpr std::uint8_t kCr = '\r';
constexpr std::uint8_t kLf = '\n';

bool is_space(std::uint8_t byte) {
  return byte == ' ' || byte == '\t';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

HeadScanner::Scan HeadScanner::scan(std::span<const std::byte> input) noexcept {
  for (std::size_t i = 0; i < input.size(); ++i) {
    const auto byte = std::to_integer<std::uint8_t>(input[i]);
    auto fault_at = [&](Fault fault) { return Scan{i, false, fault, byte}; };
    if (head_bytes_ == kMaxRequestHead) return fault_at(Fault::head_too_large);
    ++head_bytes_;
    if (pending_cr_) {
      if (byte != kLf) return fault_at(Fault::bare_cr);
      pending_cr_ = false;
      if (phase_ == Phase::ended) return Scan{i + 1, true, Fault::none, 0};
      continue;
    }
    // A line ends at its CR (the LF after it is then only checked) or at a bare LF.
    if (byte == kCr || byte == kLf) {
      if (const Fault fault = end_line(); fault != Fault::none) return fault_at(fault);
      if (byte == kCr) {
        pending_cr_ = true;
      } else if (phase_ == Phase::ended) {
        return Scan{i + 1, true, Fault::none, 0};
      }
      continue;
    }
    if (const Fault fault = take(byte); fault != Fault::none) return fault_at(fault);
  }
  return Scan{input.size(), false, Fault::none, 0};
}

HeadScanner::Fault HeadScanner::end_line() noexcept {
  switch (phase_) {
    case Phase::before_request_line:
    case Phase::ended:
      return Fault::none;
    case Phase::request_line:
      phase_ = Phase::line_start;
      return check_version();
    case Phase::line_start:
      phase_ = Phase::ended;
      return Fault::none;
    case Phase::field_name:
      return Fault::field_line_without_colon;
    case Phase::field_value:
      phase_ = Phase::line_start;
      return Fault::none;
  }
  return Fault::none;
}

HeadScanner::Fault HeadScanner::take(std::uint8_t byte) noexcept {
  switch (phase_) {
    case Phase::before_request_line:
      phase_ = Phase::request_line;
      [[fallthrough]];
    case Phase::request_line:
      if (++line_bytes_ > kMaxRequestLine) return Fault::request_line_too_long;
      if (byte < 0x20 || byte == 0x7f) return Fault::control_in_request_line;
      std::copy(tail_.begin() + 1, tail_.end(), tail_.begin());
      tail_.back() = static_cast<char>(byte);
      return Fault::none;
    case Phase::line_start:
      if (is_space(byte)) return Fault::folded_line;
      if (++fields_ > kMaxHeaderFields) return Fault::too_many_fields;
      phase_ = Phase::field_name;
      name_bytes_ = 0;
      [[fallthrough]];
    case Phase::field_name:
      if (byte == ':') {
        if (name_bytes_ == 0) return Fault::empty_field_name;
        phase_ = Phase::field_value;
        return Fault::none;
      }
      if (is_space(byte)) return Fault::space_in_field_name;
      if (!is_token_byte(byte)) return Fault::bad_field_name_byte;
      ++name_bytes_;
      return Fault::none;
    case Phase::field_value:
      return Fault::none;  // http_parser refuses control bytes in values
    case Phase::ended:
      // Only CR or LF may follow the CR of the empty line; scan() handles those.
      return Fault::bare_cr;
  }
  return Fault::none;
}

// RFC 9112 §2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive, after one SP.
HeadScanner::Fault HeadScanner::check_version() const noexcept {
  const std::string_view tail(tail_.data(), tail_.size());
  // Shorter than "M T HTTP/d.d": no room for a method and a target before the version.
  if (line_bytes_ < tail_.size() + 3 || tail.substr(0, 6) != " HTTP/" || !is_digit(tail[6]) ||
      tail[7] != '.' || !is_digit(tail[8])) {
    return Fault::malformed_version;
  }
  if (tail[6] != '1' || (tail[8] != '0' && tail[8] != '1')) return Fault::unsupported_version;
  return Fault::none;
}

std::array<char, 8> HeadScanner::version() const noexcept {
  std::array<char, 8> text{};
  std::copy(tail_.begin() + 1, tail_.end(), text.begin());
  return text;
}

}  // namespace ringtunnel::http
