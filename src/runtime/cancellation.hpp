// SPDX-License-Identifier: MIT
// Cancellation: lets one coroutine (or a timer) end another coroutine's pending operation.
#pragma once

namespace ringtunnel::runtime {

/// Pass a Cancellation to an operation; cancel() ends the operation pending on it, which then
/// completes with ECANCELED, and every later operation given this object completes at once with
/// ECANCELED. Single-threaded: use it on the reactor that owns the operations.
class Cancellation {
 public:
  using CancelFn = void (*)(void* target);

  void cancel() {
    cancelled_ = true;
    if (fn_) {
      auto fn = fn_;
      fn_ = nullptr;
      fn(target_);
    }
  }
  bool cancelled() const noexcept { return cancelled_; }

  /// Used by operations while they are pending.
  void attach(CancelFn fn, void* target) noexcept {
    fn_ = fn;
    target_ = target;
  }
  void detach(void* target) noexcept {
    if (target_ == target) fn_ = nullptr;
  }

 private:
  CancelFn fn_ = nullptr;
  void* target_ = nullptr;
  bool cancelled_ = false;
};

}  // namespace ringtunnel::runtime
