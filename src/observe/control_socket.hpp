// SPDX-License-Identifier: MIT
// ControlSocket: a Unix socket in the data dir through which `ringtunnel status` asks a running
// server or client how it is. One line of text (JSON) per connection, then close.
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "net/unique_fd.hpp"

namespace ringtunnel::observe {

/// Serves on its own thread (not a reactor: answering may wait for every reactor). Only the
/// owner's user may ask: the socket is 0600 in a 0700 directory and each peer's uid is checked.
class ControlSocket {
 public:
  using Answer = std::function<std::string()>;

  ControlSocket() = default;
  ~ControlSocket() { stop(); }
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  /// Binds `path` (its directory is created 0700 if missing; a socket left there by a process
  /// that is gone is replaced) and starts answering each connection with `answer()` and a
  /// newline. False, with one sentence in `*error`, when it cannot (the path is too long for a
  /// socket, the directory cannot be made ...).
  bool start(const std::string& path, Answer answer, std::string* error);
  /// Stops serving and removes the socket file. Idempotent.
  void stop();

  const std::string& path() const noexcept { return path_; }

 private:
  void serve();

  std::string path_;
  Answer answer_;
  net::UniqueFd listener_;
  net::UniqueFd wake_;  // eventfd: stop() writes it
  std::thread thread_;
};

/// Connects to the control socket at `path` and reads its one-line answer (at most 1 MiB,
/// within `timeout_ms`). False, with `*error`, when nothing answers (a stale socket: ECONNREFUSED).
bool ask_control_socket(const std::string& path, int timeout_ms, std::string* answer,
                        std::string* error);

}  // namespace ringtunnel::observe
