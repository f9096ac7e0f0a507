// SPDX-License-Identifier: MIT
// visit_every_core: one message per reactor, a countdown the caller waits on.
#include "runtime/visit_cores.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>

namespace ringtunnel::runtime {
namespace {

// Shared by the caller and every message: whoever finishes last frees it.
struct Visit {
  std::function<void(Reactor&)> visit;
  std::mutex mutex;
  std::condition_variable done;
  unsigned remaining = 0;
};

void deliver_visit(Reactor& reactor, CoreMessage& message) {
  std::unique_ptr<std::shared_ptr<Visit>> holder(
      static_cast<std::shared_ptr<Visit>*>(message.context));
  Visit& state = **holder;
  state.visit(reactor);
  std::lock_guard lock(state.mutex);
  if (--state.remaining == 0) state.done.notify_all();
}

}  // namespace

bool visit_every_core(Engine& engine, std::function<void(Reactor&)> visit,
                      std::chrono::milliseconds timeout) {
  auto state = std::make_shared<Visit>();
  state->visit = std::move(visit);
  state->remaining = engine.size();
  for (unsigned id = 0; id < engine.size(); ++id) {
    CoreMessage message;
    message.handler = &deliver_visit;
    message.context = new std::shared_ptr<Visit>(state);
    engine.reactor(id).post_from_any_thread(std::move(message));
  }
  std::unique_lock lock(state->mutex);
  return state->done.wait_for(lock, timeout, [&] { return state->remaining == 0; });
}

}  // namespace ringtunnel::runtime
