// SPDX-License-Identifier: MIT
// call_on: run a function on another reactor and resume the calling coroutine with its result.
#pragma once

#include <coroutine>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "runtime/assert.hpp"
#include "runtime/core_message.hpp"
#include "runtime/reactor.hpp"

namespace ringtunnel::runtime {

/// The awaiter of call_on(). It lives in the calling coroutine's frame, which stays suspended
/// while the function runs on the target, so both messages can point at it (no allocation).
template <typename Fn>
class CallOn {
 public:
  using Value = std::invoke_result_t<Fn&>;
  static_assert(!std::is_void_v<Value>, "call_on needs a function that returns a value");

  CallOn(unsigned target, Fn fn) : target_(target), fn_(std::move(fn)) {}
  CallOn(const CallOn&) = delete;
  CallOn& operator=(const CallOn&) = delete;

  bool await_ready() {
    origin_ = Reactor::current();
    RT_ASSERT(origin_ != nullptr);  // only coroutines on a reactor cross cores
    if (origin_->id() != target_) return false;
    value_.emplace(fn_());  // already there: no message
    return true;
  }
  void await_suspend(std::coroutine_handle<> caller) {
    caller_ = caller;
    CoreMessage message;
    message.handler = &CallOn::run_on_target;
    message.context = this;
    origin_->post(target_, std::move(message));
  }
  Value await_resume() { return std::move(*value_); }

 private:
  static void run_on_target(Reactor& target, CoreMessage& message) {
    auto* self = static_cast<CallOn*>(message.context);
    self->value_.emplace(self->fn_());
    CoreMessage back;
    back.handler = &CallOn::resume_caller;
    back.context = self;
    target.post(self->origin_->id(), std::move(back));
  }
  static void resume_caller(Reactor& origin, CoreMessage& message) {
    origin.resume(static_cast<CallOn*>(message.context)->caller_);
  }

  unsigned target_;
  Fn fn_;
  Reactor* origin_ = nullptr;
  std::coroutine_handle<> caller_;
  std::optional<Value> value_;
};

/// `co_await call_on(0, [&] { return registry.admit(key); })` runs the function on reactor
/// `target`'s thread (at once if that is this reactor) and resumes here with its value. The
/// function must only touch state owned by the target reactor; references it captures must
/// stay valid until the co_await returns (they live in the suspended caller's frame).
/// The target must keep running its loop until the reply has been sent, or the caller never
/// resumes: stop the owning reactor last.
template <typename Fn>
CallOn<Fn> call_on(unsigned target, Fn fn) {
  return CallOn<Fn>(target, std::move(fn));
}

/// The awaiter of run_blocking(): a thread of its own runs the function, then hands the
/// result back to the reactor that waits (Reactor::post_from_any_thread).
template <typename Fn>
class RunBlocking {
 public:
  using Value = std::invoke_result_t<Fn&>;

  explicit RunBlocking(Fn fn) : fn_(std::move(fn)) {}
  RunBlocking(const RunBlocking&) = delete;
  RunBlocking& operator=(const RunBlocking&) = delete;
  ~RunBlocking() {
    if (thread_.joinable()) thread_.join();
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> caller) {
    caller_ = caller;
    reactor_ = Reactor::current();
    RT_ASSERT(reactor_ != nullptr);
    thread_ = std::thread([this] {
      value_.emplace(fn_());
      CoreMessage done;
      done.handler = &RunBlocking::resume_caller;
      done.context = this;
      reactor_->post_from_any_thread(std::move(done));  // the last touch of `this` here
    });
  }
  Value await_resume() {
    thread_.join();
    return std::move(*value_);
  }

 private:
  static void resume_caller(Reactor& reactor, CoreMessage& message) {
    reactor.resume(static_cast<RunBlocking*>(message.context)->caller_);
  }

  Fn fn_;
  Reactor* reactor_ = nullptr;
  std::coroutine_handle<> caller_;
  std::optional<Value> value_;
  std::thread thread_;
};

/// `co_await run_blocking([&] { return ask_the_user(); })` runs a blocking function (a prompt,
/// a slow file) on a thread of its own and resumes on this reactor with its value, so the
/// reactor keeps serving meanwhile. One thread per call: for rare, slow things only.
template <typename Fn>
RunBlocking<Fn> run_blocking(Fn fn) {
  return RunBlocking<Fn>(std::move(fn));
}

/// Suspends until the next turn of the reactor's loop (lets callers unwind first).
struct NextTurn {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { Reactor::current()->schedule(h); }
  void await_resume() const noexcept {}
};
inline NextTurn next_turn() noexcept { return {}; }

/// One message from `make_message()` for each of reactors 0..cores-1, sent from `here` (its
/// thread): the others get theirs by post(), `here`'s own handler runs at once, with no trip
/// through a mailbox. For a core that tells every core the same thing (a new policy, a tunnel
/// added or removed).
template <typename Make>
void post_to_every_core(Reactor& here, unsigned cores, Make&& make_message) {
  for (unsigned id = 0; id < cores; ++id) {
    CoreMessage message = make_message();
    if (id == here.id()) {
      message.handler(here, message);
    } else {
      here.post(id, std::move(message));
    }
  }
}

}  // namespace ringtunnel::runtime
