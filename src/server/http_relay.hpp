// SPDX-License-Identifier: MIT
// relay_http: one visitor connection of the HTTP ingress carried to a client's service,
// request by request.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_set>
#include <vector>

#include "net/unique_fd.hpp"
#include "runtime/task.hpp"
#include "server/request_log.hpp"

namespace ringtunnel::server {

struct ServerTotals;

/// What one relay needs to know; it points into its ServerCore, which outlives it.
struct HttpRelaySettings {
  std::string tunnel;      ///< the name this connection was routed to (requests for another: 421)
  std::string domain;      ///< the server's --domain
  std::string label;       ///< "session 3 (fp): http app", for log lines
  std::string visitor_ip;  ///< X-Forwarded-For: the visitor's address, no brackets
  std::string visitor_address;                                  ///< "ip:port", for the request log
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};  ///< --http-timeout
  RequestLog* log = nullptr;
  ServerTotals* totals = nullptr;
  /// The core's live visitor sockets (stop() shuts their reading side); the relay is in it
  /// while it runs.
  std::unordered_set<int>* live = nullptr;
};

/// Relays the visitor connection `visitor` (from which `first` was already read: at least one
/// whole request head) to `upstream`, a socket whose other end is the stream to the client's
/// service. Each request head is parsed (http/request_head.hpp) and checked to name the same
/// tunnel, then forwarded rewritten (hop-by-hop fields out, X-Forwarded-* in), its body as
/// it is, as the bytes arrive (nothing is buffered whole); each response head is parsed and
/// forwarded rewritten, its body as it is. Pipelined requests are answered in order. An
/// Upgrade the service accepts (101) turns the connection into raw bytes both ways. What goes
/// wrong is answered with a small page: 400/431/... for a bad request, 421 for another
/// tunnel's name, 502 when the service closes or sends a malformed response, 504 when it does
/// not start a response within `timeout`; then the connection closes. Each request is
/// recorded in `log`. Returns once both directions have ended and both sockets are closed.
/// Threads: the reactor it runs on.
runtime::Task<void> relay_http(net::UniqueFd visitor, net::UniqueFd upstream,
                               std::vector<std::byte> first, HttpRelaySettings settings);

}  // namespace ringtunnel::server
