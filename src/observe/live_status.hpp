// SPDX-License-Identifier: MIT
// LiveStatus: what a running server or client reports about itself (`ringtunnel status`, and
// later the health endpoint's /api/v1/status), as plain data and as one JSON object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ringtunnel::observe {

struct LiveSession {
  std::string name;  ///< the session's log name: peer, key fingerprint, address
  unsigned core = 0;
  double uptime_seconds = 0;
  std::optional<double> rtt_ms;
  std::uint64_t streams_open = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

struct LiveStatus {
  std::string role;  ///< "server" or "client"
  long pid = 0;
  std::string version;
  double uptime_seconds = 0;
  std::string address;               ///< server: where it listens; client: the server it uses
  std::string state;                 ///< "running", "draining", or for a client "connecting" too
  std::vector<std::string> tunnels;  ///< client: "NAME listening on WHERE"
  std::vector<LiveSession> sessions;
  /// Since start, ended and live sessions together.
  std::uint64_t sessions_total = 0;
  std::uint64_t streams_total = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  bool complete = true;  ///< false when a reactor did not answer in time
};

/// One JSON object (one line).
std::string to_json(const LiveStatus& status);

/// The object to_json wrote; nullopt (with `*error`) for anything else. Peer input: every field
/// is checked for its type, strings are kept as given (escape them before printing).
std::optional<LiveStatus> live_status_from_json(const std::string& text, std::string* error);

}  // namespace ringtunnel::observe
