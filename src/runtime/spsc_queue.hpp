// SPDX-License-Identifier: MIT
// SpscQueue: a bounded lock-free single-producer single-consumer ring for cross-core messages.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <utility>

#include "runtime/assert.hpp"

namespace ringtunnel::runtime {

inline constexpr std::size_t kCacheLine = 64;

/// Exactly one thread pushes and exactly one (other) thread pops. Capacity is a power of two.
/// Each side caches the other side's index so the shared cache lines are touched only when the
/// cached view says full/empty.
template <typename T>
class SpscQueue {
 public:
  explicit SpscQueue(std::size_t capacity)
      : mask_(capacity - 1), slots_(std::make_unique<Slot[]>(capacity)) {
    RT_ASSERT(capacity >= 2 && (capacity & (capacity - 1)) == 0);
  }
  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;
  ~SpscQueue() {
    while (try_pop()) {
    }
  }

  /// Producer side. Returns false (and leaves `value` untouched) when full.
  bool try_push(T& value) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    new (slots_[tail & mask_].storage) T(std::move(value));
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  /// Consumer side.
  std::optional<T> try_pop() {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return std::nullopt;
    }
    T* slot = std::launder(reinterpret_cast<T*>(slots_[head & mask_].storage));
    std::optional<T> out(std::move(*slot));
    slot->~T();
    head_.store(head + 1, std::memory_order_release);
    return out;
  }

  /// Consumer side: a cheap hint, exact only for the consumer.
  bool empty_hint() const noexcept {
    return head_.load(std::memory_order_relaxed) == tail_.load(std::memory_order_acquire);
  }

  std::size_t capacity() const noexcept { return mask_ + 1; }

 private:
  struct Slot {
    alignas(T) std::byte storage[sizeof(T)];
  };
  const std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(kCacheLine) std::atomic<std::size_t> head_{0};  // written by the consumer
  std::size_t tail_cache_ = 0;                            // consumer's view of tail_
  alignas(kCacheLine) std::atomic<std::size_t> tail_{0};  // written by the producer
  std::size_t head_cache_ = 0;                            // producer's view of head_
};

}  // namespace ringtunnel::runtime
