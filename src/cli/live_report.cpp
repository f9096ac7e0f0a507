// SPDX-License-Identifier: MIT
// LiveReport: visit every core, merge, answer.
#include "cli/live_report.hpp"

#include <unistd.h>

#include <memory>
#include <mutex>
#include <vector>

#include "observe/log.hpp"
#include "ringtunnel/version.hpp"
#include "runtime/visit_cores.hpp"

namespace ringtunnel::cli {
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

std::string control_directory(const std::string& data_dir) { return data_dir + "/run"; }

LiveReport::LiveReport(std::string role, std::string address, runtime::Engine& engine,
                       Snapshot snapshot)
    : role_(std::move(role)), address_(std::move(address)), engine_(engine),
      snapshot_(std::move(snapshot)) {}

observe::LiveStatus LiveReport::collect() {
  // Owned by the visits too: one that runs after the timeout writes into live memory.
  struct Parts {
    std::mutex mutex;
    std::vector<observe::LiveStatus> parts;
  };
  auto parts = std::make_shared<Parts>();
  parts->parts.resize(engine_.size());
  const bool complete = runtime::visit_every_core(
      engine_,
      [parts, snapshot = snapshot_](runtime::Reactor& reactor) {
        observe::LiveStatus part = snapshot(reactor);
        std::lock_guard lock(parts->mutex);
        parts->parts[reactor.id()] = std::move(part);
      },
      kVisitTimeout);
  observe::LiveStatus status;
  status.role = role_;
  status.pid = ::getpid();
  status.version = kVersion;
  status.address = address_;
  status.uptime_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  status.state = "running";
  status.complete = complete;
  std::lock_guard lock(parts->mutex);
  for (observe::LiveStatus& part : parts->parts) merge(status, part);
  if (role_ == "client" && status.sessions.empty() && status.state == "running") {
    status.state = "connecting";
  }
  return status;
}

void LiveReport::start(const std::string& data_dir) {
  const std::string path =
      control_directory(data_dir) + "/" + role_ + "-" + std::to_string(::getpid()) + ".sock";
  std::string error;
  if (!socket_.start(path, [this] { return observe::to_json(collect()); }, &error)) {
    observe::log_warn("`ringtunnel status` will not see this {}: {}", role_, error);
  }
}

}  // namespace ringtunnel::cli
