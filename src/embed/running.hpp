// SPDX-License-Identifier: MIT
// Running<Role>: what an embedded client or server holds while it runs: its engine (no
// signals), resolver, the role itself and its events; and the one way to stop it.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "embed/events.hpp"
#include "net/resolver.hpp"
#include "ringtunnel/error.hpp"
#include "runtime/engine.hpp"

namespace ringtunnel::embed {

template <typename Role>
struct Running {
  explicit Running(const char* role_name) : name(role_name) {}

  const char* name;  ///< "client", "server": in the stopped event
  EventScope events;
  // Destroyed in this order (role, resolver, engine), as the CLI does: the role's coroutines
  // and lookups end before the reactors they lived on.
  std::unique_ptr<runtime::Engine> engine;
  std::unique_ptr<net::Resolver> resolver;
  std::unique_ptr<Role> role;
  std::chrono::steady_clock::time_point started;
  bool start_called = false;
  bool engine_started = false;

  /// Stops whatever runs and returns the failure.
  Outcome fail(std::string message) {
    shut_down();
    return Outcome::failure(std::move(message));
  }

  /// Posts Role::stop_on to every reactor (the same graceful stop as SIGTERM: drain, close),
  /// joins the threads, frees everything. Idempotent.
  void shut_down() {
    if (engine && engine_started) {
      for (unsigned id = 0; id < engine->size(); ++id) {
        runtime::CoreMessage stop;
        stop.handler = [](runtime::Reactor& reactor, runtime::CoreMessage& message) {
          static_cast<Role*>(message.context)->stop_on(reactor);
        };
        stop.context = role.get();
        engine->reactor(id).post_from_any_thread(std::move(stop));
      }
      engine->join();
    }
    const bool was_running = engine_started;
    engine_started = false;
    role.reset();
    resolver.reset();
    engine.reset();
    if (was_running) events.emit(Event::Kind::stopped, std::string(name) + " stopped");
    events.end();
  }
};

}  // namespace ringtunnel::embed
