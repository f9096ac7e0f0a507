// SPDX-License-Identifier: MIT
// TimerHeap: sift operations keep every timer's heap_index current so removal is O(log n).
#include "runtime/timer_heap.hpp"

#include "runtime/assert.hpp"

namespace ringtunnel::runtime {

void TimerHeap::add(Timer& timer) {
  RT_ASSERT(!timer.armed());
  heap_.push_back(&timer);
  timer.heap_index = heap_.size() - 1;
  sift_up(timer.heap_index);
}

void TimerHeap::remove(Timer& timer) noexcept {
  if (!timer.armed()) return;
  std::size_t i = timer.heap_index;
  RT_DCHECK(i < heap_.size() && heap_[i] == &timer);
  Timer* last = heap_.back();
  heap_.pop_back();
  timer.heap_index = Timer::kNotArmed;
  if (last == &timer) return;
  place(i, last);
  sift_up(i);
  sift_down(last->heap_index);
}

std::size_t TimerHeap::fire_due(Clock::time_point now) {
  std::size_t fired = 0;
  while (!heap_.empty() && heap_.front()->deadline <= now) {
    Timer* t = heap_.front();
    remove(*t);
    ++fired;
    t->on_fire(*t);
  }
  return fired;
}

void TimerHeap::sift_up(std::size_t i) noexcept {
  Timer* t = heap_[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (heap_[parent]->deadline <= t->deadline) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, t);
}

void TimerHeap::sift_down(std::size_t i) noexcept {
  Timer* t = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->deadline < heap_[child]->deadline) ++child;
    if (t->deadline <= heap_[child]->deadline) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, t);
}

}  // namespace ringtunnel::runtime
