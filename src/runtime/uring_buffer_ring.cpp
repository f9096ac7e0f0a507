// SPDX-License-Identifier: MIT
// UringBufferRing: registration of the descriptor ring and recycling of slots.
#include "runtime/uring_buffer_ring.hpp"

#include <sys/mman.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace ringtunnel::runtime {

UringBufferRing::UringBufferRing(io_uring& ring, uint16_t group_id, uint32_t count, uint32_t size)
    : BufferRing(group_id, count, size), ring_(ring) {
  shared_bytes_ = count * sizeof(io_uring_buf);
  void* p = mmap(nullptr, shared_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error("mmap for the io_uring buffer ring failed");
  shared_ = static_cast<io_uring_buf_ring*>(p);
  io_uring_buf_ring_init(shared_);

  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(shared_);
  reg.ring_entries = count;
  reg.bgid = group_id;
  int rc = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (rc != 0) {
    munmap(shared_, shared_bytes_);
    throw std::runtime_error(std::string("io_uring_register_buf_ring: ") + std::strerror(-rc));
  }
  const int mask = io_uring_buf_ring_mask(count);
  for (uint32_t i = 0; i < count; ++i) {
    io_uring_buf_ring_add(shared_, data(static_cast<uint16_t>(i)), size, static_cast<uint16_t>(i),
                          mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(shared_, static_cast<int>(count));
}

UringBufferRing::~UringBufferRing() {
  io_uring_unregister_buf_ring(&ring_, group_id());
  munmap(shared_, shared_bytes_);
}

void UringBufferRing::recycle(uint16_t buffer_id) noexcept {
  io_uring_buf_ring_add(shared_, data(buffer_id), buffer_size(), buffer_id,
                        io_uring_buf_ring_mask(count()), 0);
  io_uring_buf_ring_advance(shared_, 1);
}

}  // namespace ringtunnel::runtime
