// SPDX-License-Identifier: MIT
// The request and response heads as the ingress forwards them: hop-by-hop fields out
// (RFC 9110 §7.6.1), X-Forwarded-* in.
#pragma once

#include <string>

#include "http/request_head.hpp"
#include "http/response_head.hpp"

namespace ringtunnel::http {

/// Who sent a request, for the X-Forwarded-* fields the ingress adds.
struct ForwardedFor {
  std::string visitor_ip;  ///< "203.0.113.9" or "2001:db8::1" (no brackets)
  std::string proto = "http";
  std::string host;  ///< the Host as the visitor sent it
};

/// Appends the head to send upstream to `out`: the request line as received; the fields in
/// order without the hop-by-hop ones (Connection, every field Connection names, Keep-Alive,
/// Proxy-Connection, TE, and Upgrade unless the request upgrades) and without any
/// X-Forwarded-For/-Proto/-Host or Forwarded the visitor sent (the edge sets them, so the
/// service can trust them); then X-Forwarded-For, -Proto and -Host; then Connection: "upgrade"
/// (with Upgrade kept) for an upgrade, "close" when the request ends the connection,
/// "keep-alive" for an HTTP/1.0 request that keeps it. Transfer-Encoding and Content-Length
/// stay: the body is forwarded as it is. Ends with the empty line.
void append_forwarded_request(const RequestHead& head, const ForwardedFor& forwarded,
                              std::string& out);

/// Appends the response head to send the visitor: the status line, the fields without the
/// hop-by-hop ones (Upgrade kept on a 101), then "Connection: close" when `close`, or
/// "Connection: upgrade" on a 101.
void append_forwarded_response(const ResponseHead& head, bool close, std::string& out);

}  // namespace ringtunnel::http
