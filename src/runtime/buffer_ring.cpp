// SPDX-License-Identifier: MIT
// BufferRing storage: one lazily-touched anonymous mapping shared by all slots.
#include "runtime/buffer_ring.hpp"

#include <sys/mman.h>

#include <new>

#include "runtime/assert.hpp"

namespace ringtunnel::runtime {

BufferRing::BufferRing(uint16_t group_id, uint32_t count, uint32_t size)
    : group_id_(group_id), count_(count), size_(size), available_(count) {
  RT_ASSERT(count > 0 && (count & (count - 1)) == 0 && count <= 32768);
  // MAP_NORESERVE + lazy touch: a slot costs RSS only once data has been received into it.
  void* p = mmap(nullptr, static_cast<std::size_t>(count) * size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  base_ = static_cast<std::byte*>(p);
}

BufferRing::~BufferRing() { munmap(base_, static_cast<std::size_t>(count_) * size_); }

void BufferRing::give_back(uint16_t buffer_id) noexcept {
  RT_DCHECK(buffer_id < count_);
  recycle(buffer_id);
  if (available_++ == 0 && refill_hook_) refill_hook_(refill_context_);
}

}  // namespace ringtunnel::runtime
