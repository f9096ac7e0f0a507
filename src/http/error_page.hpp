// SPDX-License-Identifier: MIT
// error_response: the small pages the ingress answers itself (404, 502, 504...).
#pragma once

#include <string>
#include <string_view>

namespace ringtunnel::http {

/// The reason phrase of `status` (RFC 9110 §15) for the statuses the ingress sends; "Error"
/// for any other.
std::string_view reason_phrase(int status) noexcept;

/// A complete HTTP/1.1 response: the status line, Content-Type text/html, Content-Length,
/// Cache-Control: no-store, X-Content-Type-Options: nosniff, Connection: close, and a tiny
/// page naming the status and `detail`. `detail` is HTML-escaped (& < > " ' and every byte
/// that is not printable ASCII as a character reference), so peer text in it is inert. No
/// server name or version is disclosed.
std::string error_response(int status, std::string_view detail);

}  // namespace ringtunnel::http
