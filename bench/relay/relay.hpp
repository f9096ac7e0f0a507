// SPDX-License-Identifier: MIT
// Relay: a plain TCP relay on the runtime (bench tool and quickstart demo, not a product command).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "net/socket_address.hpp"
#include "runtime/engine.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::bench {

struct RelayOptions {
  net::SocketAddress listen;
  net::SocketAddress target;
};

/// Per-reactor relay counters, summed when read.
struct RelayCounters {
  uint64_t connections = 0;
  uint64_t connect_failures = 0;
  uint64_t bytes_up = 0;    ///< client → target
  uint64_t bytes_down = 0;  ///< target → client
};

struct RelayCore;

/// The relay across all reactors of one engine. Construct it before Engine::start(); every
/// reactor then touches only its own slot, so nothing here needs a lock.
class Relay {
 public:
  Relay(RelayOptions options, unsigned reactors);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  /// Call on each reactor from the engine's start callback: opens a SO_REUSEPORT listener on
  /// this core and serves it. Returns the error if the listener cannot be opened.
  Result<void> start_on(runtime::Reactor& reactor);
  /// Call on each reactor (e.g. from the signal handler): stops accepting, shuts down this
  /// core's connections and ends the reactor's loop once they have all finished, so every
  /// coroutine frame is freed.
  void stop_on(runtime::Reactor& reactor);
  /// Sum over reactors; read after the engine has been joined.
  RelayCounters totals() const;

 private:
  RelayOptions options_;
  std::vector<std::unique_ptr<RelayCore>> cores_;
};

}  // namespace ringtunnel::bench
