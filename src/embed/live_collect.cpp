// SPDX-License-Identifier: MIT
// collect_live_status: visit, merge.
#include "embed/live_collect.hpp"

#include <unistd.h>

#include <memory>
#include <mutex>
#include <vector>

#include "ringtunnel/version.hpp"
#include "runtime/visit_cores.hpp"

namespace ringtunnel::embed {
namespace {

constexpr std::chrono::milliseconds kVisitTimeout{2000};

void merge(observe::LiveStatus& into, observe::LiveStatus& part) {
  into.tunnels.insert(into.tunnels.end(), part.tunnels.begin(), part.tunnels.end());
  for (auto& session : part.sessions) into.sessions.push_back(std::move(session));
  into.sessions_total += part.sessions_total;
  into.streams_total += part.streams_total;
  into.bytes_in += part.bytes_in;
  into.bytes_out += part.bytes_out;
  if (part.state == "draining") into.state = "draining";
}

}  // namespace

observe::LiveStatus collect_live_status(runtime::Engine& engine, const std::string& role,
                                        const std::string& address,
                                        std::chrono::steady_clock::time_point started,
                                        const CoreSnapshot& snapshot) {
  // Owned by the visits too: one that runs after the timeout writes into live memory.
  struct Parts {
    std::mutex mutex;
    std::vector<observe::LiveStatus> parts;
  };
  auto parts = std::make_shared<Parts>();
  parts->parts.resize(engine.size());
  const bool complete = runtime::visit_every_core(
      engine,
      [parts, snapshot](runtime::Reactor& reactor) {
        observe::LiveStatus part = snapshot(reactor);
        std::lock_guard lock(parts->mutex);
        parts->parts[reactor.id()] = std::move(part);
      },
      kVisitTimeout);
  observe::LiveStatus status;
  status.role = role;
  status.pid = ::getpid();
  status.version = kVersion;
  status.address = address;
  status.uptime_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  status.state = "running";
  status.complete = complete;
  std::lock_guard lock(parts->mutex);
  for (observe::LiveStatus& part : parts->parts) merge(status, part);
  if (role == "client" && status.sessions.empty() && status.state == "running") {
    status.state = "connecting";
  }
  return status;
}

Status to_public(const observe::LiveStatus& live) {
  Status status;
  status.state = live.state;
  status.address = live.address;
  status.uptime_seconds = live.uptime_seconds;
  status.tunnels = live.tunnels;
  for (const observe::LiveSession& s : live.sessions) {
    status.sessions.push_back(SessionStatus{s.name, s.core, s.uptime_seconds, s.rtt_ms,
                                            s.streams_open, s.bytes_in, s.bytes_out});
  }
  status.sessions_total = live.sessions_total;
  status.streams_total = live.streams_total;
  status.bytes_in = live.bytes_in;
  status.bytes_out = live.bytes_out;
  return status;
}

}  // namespace ringtunnel::embed
