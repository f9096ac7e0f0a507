// SPDX-License-Identifier: MIT
// HeadScanner: the line rules and limits of a request head that http_parser leaves to us.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ringtunnel::http {

/// Runs over the bytes of a request head just ahead of http_parser and finds where it ends
/// and the first byte that breaks one of these rules, none of which Debian's non-strict
/// http_parser build checks (or, for the limits, checks at our sizes):
///  - kMaxRequestHead, kMaxRequestLine, kMaxHeaderFields;
///  - every CR is followed by LF;
///  - the request line has no control byte and ends in " HTTP/d.d", d.d being 1.0 or 1.1;
///  - a header line does not start with whitespace (obsolete folding);
///  - a header name is one or more token characters directly followed by ':'.
/// It splits lines only; what is on them (method, target, values) is http_parser's to read.
/// Pure and allocation-free; a fault is reported at the offending byte, so the result does
/// not depend on how the input was cut into pieces. (A control byte in the request line is
/// the one fault the parser lets http_parser see as well, since it refuses most of them
/// with a better reason.)
class HeadScanner {
 public:
  enum class Fault : std::uint8_t {
    none,
    head_too_large,            // 431
    request_line_too_long,     // 414
    too_many_fields,           // 431
    bare_cr,                   // 400
    control_in_request_line,   // 400, byte
    malformed_version,         // 400
    unsupported_version,       // 505, version()
    folded_line,               // 400
    space_in_field_name,       // 400
    bad_field_name_byte,       // 400, byte
    empty_field_name,          // 400
    field_line_without_colon,  // 400
  };

  struct Scan {
    std::size_t stop = 0;       // bytes of the input that are fine to parse (see below)
    bool head_ended = false;    // the input holds the end of the head at stop
    Fault fault = Fault::none;  // set: the byte at stop breaks a rule
    std::uint8_t byte = 0;      // that byte
  };

  /// Scans the next piece of the head. Without a fault or the end, stop is input.size().
  Scan scan(std::span<const std::byte> input) noexcept;
  void reset() noexcept { *this = HeadScanner{}; }

  /// The version the request line ended with, as "HTTP/d.d" (after unsupported_version).
  std::array<char, 8> version() const noexcept;
  /// Bytes of the header name that the last fault interrupted (0: none, or not in a name).
  std::size_t name_bytes() const noexcept { return phase_ == Phase::field_name ? name_bytes_ : 0; }

 private:
  enum class Phase : std::uint8_t {
    before_request_line,  // empty lines before the request line are skipped (RFC 9112 §2.2)
    request_line,
    line_start,  // at the start of a header line or of the empty line that ends the head
    field_name,
    field_value,
    ended,  // the empty line has started; its LF ends the head
  };

  Fault end_line() noexcept;
  Fault take(std::uint8_t byte) noexcept;
  Fault check_version() const noexcept;

  Phase phase_ = Phase::before_request_line;
  bool pending_cr_ = false;
  std::size_t head_bytes_ = 0;
  std::size_t line_bytes_ = 0;  // of the request line, its ending excluded
  std::size_t fields_ = 0;
  std::size_t name_bytes_ = 0;
  // The last bytes of the request line, where " HTTP/d.d" must be.
  std::array<char, 9> tail_{};
};

}  // namespace ringtunnel::http
