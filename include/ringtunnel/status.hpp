// SPDX-License-Identifier: MIT
// What an embedded client or server reports: events as they happen, and status snapshots.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ringtunnel {

/// Something that happened in an embedded client or server.
struct Event {
  enum class Kind {
    log,      ///< a log line (the same lines the command-line tool writes)
    ready,    ///< start() is about to return success
    stopped,  ///< stop() has finished: every session closed, every thread joined
  };
  enum class Level { trace, debug, info, warn, error };
  Kind kind = Kind::log;
  Level level = Level::info;
  std::string message;
};

/// Called on the library's threads (for log lines, the thread that logs: a reactor). Keep it
/// short and never block in it, and do not call stop() from it. Log lines reach the handlers of
/// every client and server of the process (logging is process-wide).
using EventHandler = std::function<void(const Event&)>;

struct SessionStatus {
  std::string name;  ///< e.g. "session 0 to 127.0.0.1:9000", "client SHA256:... from ..."
  unsigned core = 0;
  double uptime_seconds = 0;
  std::optional<double> rtt_ms;  ///< the latest PING round trip, once measured
  std::uint64_t streams_open = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

/// A snapshot, taken by visiting every reactor (no locks on the data path).
struct Status {
  std::string state;    ///< "stopped", "connecting", "running" or "draining"
  std::string address;  ///< the server this client uses, or where this server listens
  double uptime_seconds = 0;
  std::vector<std::string> tunnels;  ///< a client's forwards and where each listens
  std::vector<SessionStatus> sessions;
  std::uint64_t sessions_total = 0;  ///< since start, ended and live
  std::uint64_t streams_total = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

}  // namespace ringtunnel
