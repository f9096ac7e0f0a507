// SPDX-License-Identifier: MIT
// LiveReport: the running server's or client's answer to `ringtunnel status`, served on
// <data dir>/run/<role>-<pid>.sock: every reactor visited for its share, merged into one JSON line.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "observe/control_socket.hpp"
#include "observe/live_status.hpp"
#include "runtime/engine.hpp"

namespace ringtunnel::cli {

class LiveReport {
 public:
  /// `snapshot` runs on each reactor's own thread and returns that core's share.
  using Snapshot = std::function<observe::LiveStatus(runtime::Reactor&)>;

  LiveReport(std::string role, std::string address, runtime::Engine& engine, Snapshot snapshot);

  /// Starts serving in `data_dir`; a failure is logged as a warning (status will not see this
  /// process), never fatal.
  void start(const std::string& data_dir);
  /// Stops serving and removes the socket. Before the engine's reactors are gone.
  void stop() { socket_.stop(); }

  /// The merged status now (what the socket answers).
  observe::LiveStatus collect();

 private:
  std::string role_;
  std::string address_;
  runtime::Engine& engine_;
  Snapshot snapshot_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  observe::ControlSocket socket_;
};

/// <data dir>/run: where the control sockets are.
std::string control_directory(const std::string& data_dir);

}  // namespace ringtunnel::cli
