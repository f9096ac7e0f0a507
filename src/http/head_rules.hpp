// SPDX-License-Identifier: MIT
// The rules a parsed request head must meet (RFC 9112) and what follows from its fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/request_head.hpp"

namespace ringtunnel::http {

/// `text` for a message: in single quotes, cut to 80 bytes (then "..." and the full length),
/// every byte that is not printable ASCII, and the backslash, written as \xNN.
std::string quote(std::string_view text);

/// ASCII case-insensitive equality (field names, options and codings are case-insensitive).
bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept;

/// RFC 9110 §5.6.2 tchar: the bytes of a field name, a method or a coding.
bool is_token_byte(std::uint8_t byte) noexcept;

/// `text` without the spaces and tabs around it (RFC 9110 OWS).
std::string_view trim_whitespace(std::string_view text) noexcept;

/// Checks a head whose method, target, version, fields and size http_parser has read, and
/// fills in framing, content_length, keep_alive and upgrade. The rules, in the order checked:
///  - Host: at most one; exactly one on HTTP/1.1 (RFC 9112 §3.2);
///  - an absolute-form target's authority equals the Host value, ASCII case-insensitively
///    (RFC 9112 §3.2.2 makes the target's authority win, so a router reading Host must not
///    see a different one);
///  - framing (RFC 9112 §6): Transfer-Encoding and Content-Length together are refused (a
///    request smuggling vector), as is Transfer-Encoding on HTTP/1.0 (§6.1); the codings of
///    every Transfer-Encoding field, in order, must end in chunked (else 400, §6.3), name
///    chunked once (400) and otherwise only gzip, x-gzip, deflate, compress or x-compress
///    (else 501); Content-Length appears once and is a decimal number;
///  - keep-alive (§9.3): no if Connection has "close", else yes on HTTP/1.1 and, on
///    HTTP/1.0, only if Connection has "keep-alive";
///  - upgrade: see RequestHead::upgrade.
/// Returns the first rule broken, or nullopt.
[[nodiscard]] std::optional<HeadError> apply_head_rules(RequestHead& head);

}  // namespace ringtunnel::http
