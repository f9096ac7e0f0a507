// SPDX-License-Identifier: MIT
// visit_every_core: run a function on every reactor's own thread, from a thread that is not a
// reactor, and wait for all of them (a status request reading core-local state, lock-free).
#pragma once

#include <chrono>
#include <functional>

#include "runtime/engine.hpp"

namespace ringtunnel::runtime {

/// Posts `visit` to every reactor of `engine` (post_from_any_thread) and waits until each has
/// run it or `timeout` passes. True when all ran in time. A visit that runs after a timeout is
/// still safe as long as it writes only to what it owns: capture results by shared_ptr, never
/// by reference to the caller's stack. A reactor that has stopped never runs it.
/// Not from a reactor thread: it blocks.
bool visit_every_core(Engine& engine, std::function<void(Reactor&)> visit,
                      std::chrono::milliseconds timeout);

}  // namespace ringtunnel::runtime
