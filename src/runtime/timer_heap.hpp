// SPDX-License-Identifier: MIT
// TimerHeap: the reactor's intrusive min-heap of deadlines; timers live in their owners.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

namespace ringtunnel::runtime {

using Clock = std::chrono::steady_clock;

/// A deadline with a callback, embedded in whoever owns it (an awaiter, a session). While armed
/// it must not move or be destroyed; disarm it first (TimerHeap::remove).
struct Timer {
  using FireFn = void (*)(Timer& timer);
  Clock::time_point deadline{};
  FireFn on_fire = nullptr;
  void* context = nullptr;  ///< for on_fire: usually the owner
  std::size_t heap_index = kNotArmed;
  static constexpr std::size_t kNotArmed = static_cast<std::size_t>(-1);
  bool armed() const noexcept { return heap_index != kNotArmed; }
};

/// Binary min-heap ordered by deadline. add/remove O(log n), no allocation once grown.
class TimerHeap {
 public:
  void add(Timer& timer);
  void remove(Timer& timer) noexcept;
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  /// The earliest deadline; the heap must not be empty.
  Clock::time_point next_deadline() const noexcept { return heap_.front()->deadline; }
  /// Fires every timer due at `now` (each is disarmed before its callback runs, so the callback
  /// may re-arm it). Returns how many fired.
  std::size_t fire_due(Clock::time_point now);

 private:
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
  void place(std::size_t i, Timer* t) noexcept {
    heap_[i] = t;
    t->heap_index = i;
  }
  std::vector<Timer*> heap_;
};

}  // namespace ringtunnel::runtime
