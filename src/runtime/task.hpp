// SPDX-License-Identifier: MIT
// Task<T>: a lazy C++20 coroutine that resumes its awaiter when done, plus spawn() for detached ones.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "runtime/assert.hpp"

namespace ringtunnel::runtime {

namespace detail {

/// Symmetric transfer to `next`, unless this thread has made too many transfers since the reactor
/// last resumed something from its loop. g++ 12 does not turn symmetric transfer into a tail call
/// at -O0 or under ASan, so a long run of awaits that complete at once would grow the stack without
/// bound; past the limit the handle is queued on the reactor's ready list instead and the stack
/// unwinds back to the loop. Without a reactor on this thread it always transfers.
std::coroutine_handle<> transfer_to(std::coroutine_handle<> next) noexcept;

/// Resets the transfer count: called by the reactor before every resume from its loop.
void reset_transfer_depth() noexcept;

template <typename T>
struct PromiseStorage {
  std::optional<T> value;
  template <typename U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() { return std::move(*value); }
};

template <>
struct PromiseStorage<void> {
  void return_void() noexcept {}
  void take() noexcept {}
};

}  // namespace detail

/// A coroutine returning T. Lazy: it starts when awaited (or spawned) and, when it finishes,
/// transfers control straight back to its awaiter. Owns its frame; move-only.
/// An exception escaping the body is rethrown at the co_await.
template <typename T = void>
class [[nodiscard]] Task {
 public:
  struct promise_type : detail::PromiseStorage<T> {
    std::coroutine_handle<> continuation;
    std::exception_ptr exception;

    Task get_return_object() noexcept {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> self) noexcept {
        auto next = self.promise().continuation;
        return next ? detail::transfer_to(next) : std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { exception = std::current_exception(); }
  };

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  struct Awaiter {
    std::coroutine_handle<promise_type> handle;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
      handle.promise().continuation = caller;
      return detail::transfer_to(handle);
    }
    T await_resume() {
      if (handle.promise().exception) std::rethrow_exception(handle.promise().exception);
      return handle.promise().take();
    }
  };
  Awaiter operator co_await() && noexcept {
    RT_ASSERT(handle_);
    return Awaiter{handle_};
  }

  /// True once the body has run to completion (used by tests and sync drivers).
  bool done() const noexcept { return !handle_ || handle_.done(); }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

namespace detail {
/// The frame that runs a spawned Task to completion and then frees itself.
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    [[noreturn]] void unhandled_exception() noexcept;
  };
};
Detached run_detached(Task<void> task);
}  // namespace detail

/// Starts `task` now on the calling thread; it runs until its first suspension and then on
/// whichever completions resume it. Nobody waits for it: it frees itself when done. An exception
/// escaping a spawned task is a bug and terminates the process with a message.
inline void spawn(Task<void> task) { detail::run_detached(std::move(task)); }

}  // namespace ringtunnel::runtime
