// SPDX-License-Identifier: MIT
// The engine a tunnel runs on: reactor count, backend, polling, pinning, and a buffer ring
// sized for tunnel streams. Shared by the CLI and the embedding API.
#pragma once

#include <string>

#include "runtime/engine.hpp"

namespace ringtunnel::embed {

struct EngineChoice {
  unsigned threads = 0;          ///< 0: one per online CPU
  std::string backend = "auto";  ///< "auto", "io_uring" or "epoll"
  unsigned idle_poll_us = 50;
  std::string pin = "auto";    ///< "yes"/"true", "no"/"false", "auto" (4 CPUs or more)
  bool handle_signals = true;  ///< false for an embedder: its process, its signals
};

runtime::EngineOptions tunnel_engine_options(const EngineChoice& choice);

/// True for "auto", "io_uring" and "epoll".
bool valid_backend_name(const std::string& name);

}  // namespace ringtunnel::embed
