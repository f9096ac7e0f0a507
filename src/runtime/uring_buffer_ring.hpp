// SPDX-License-Identifier: MIT
// UringBufferRing: a BufferRing registered with the kernel as an io_uring provided-buffer ring.
#pragma once

#include <liburing.h>

#include "runtime/buffer_ring.hpp"

namespace ringtunnel::runtime {

/// liburing 2.3 has no io_uring_setup_buf_ring(), so the ring memory is mapped here and
/// registered with io_uring_register_buf_ring(). The kernel picks buffers from it; give_back()
/// publishes a slot again with one store and a tail advance.
class UringBufferRing final : public BufferRing {
 public:
  UringBufferRing(io_uring& ring, uint16_t group_id, uint32_t count, uint32_t size);
  ~UringBufferRing() override;

 protected:
  void recycle(uint16_t buffer_id) noexcept override;

 private:
  io_uring& ring_;
  io_uring_buf_ring* shared_ = nullptr;  // the ring of buffer descriptors the kernel reads
  std::size_t shared_bytes_ = 0;
};

}  // namespace ringtunnel::runtime
