// SPDX-License-Identifier: MIT
// BufferRing: a per-reactor ring of provided receive buffers, and Buffer, the handle that returns one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace ringtunnel::runtime {

/// A fixed set of equal buffers the kernel (io_uring) or the epoll backend picks from when data
/// arrives, so an idle connection holds no buffer. Subclasses decide how a returned buffer is
/// made available again. Owned by one reactor; not thread-safe.
class BufferRing {
 public:
  /// Called after a buffer went back while the ring had been empty, so receivers waiting for
  /// buffers (back-pressure after -ENOBUFS) can be woken.
  using RefillHook = void (*)(void* context);

  virtual ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  uint16_t group_id() const noexcept { return group_id_; }
  uint32_t count() const noexcept { return count_; }
  uint32_t buffer_size() const noexcept { return size_; }
  /// Buffers currently available to receives.
  uint32_t available() const noexcept { return available_; }
  /// Times a receive found the ring empty (counted by the backends).
  uint64_t exhaustions() const noexcept { return exhaustions_; }
  void count_exhaustion() noexcept { ++exhaustions_; }

  std::byte* data(uint16_t buffer_id) noexcept {
    return base_ + static_cast<std::size_t>(buffer_id) * size_;
  }

  /// Hands a buffer back for new receives.
  void give_back(uint16_t buffer_id) noexcept;
  /// The kernel (or epoll backend) took a buffer.
  void note_taken() noexcept { --available_; }

  void set_refill_hook(RefillHook hook, void* context) noexcept {
    refill_hook_ = hook;
    refill_context_ = context;
  }

 protected:
  BufferRing(uint16_t group_id, uint32_t count, uint32_t size);
  /// Makes `buffer_id` available to the backend again.
  virtual void recycle(uint16_t buffer_id) noexcept = 0;

 private:
  uint16_t group_id_;
  uint32_t count_;
  uint32_t size_;
  uint32_t available_;
  uint64_t exhaustions_ = 0;
  std::byte* base_ = nullptr;  // one anonymous mapping of count_ * size_ bytes, touched lazily
  RefillHook refill_hook_ = nullptr;
  void* refill_context_ = nullptr;
};

/// A received buffer: owns one slot of a BufferRing and gives it back when destroyed.
/// Move-only, two words plus a length; the ring must outlive it (both belong to one reactor).
class Buffer {
 public:
  Buffer() = default;
  Buffer(BufferRing& ring, uint16_t id, uint32_t length) noexcept
      : ring_(&ring), id_(id), length_(length) {}
  Buffer(Buffer&& other) noexcept
      : ring_(std::exchange(other.ring_, nullptr)),
        id_(other.id_),
        length_(other.length_),
        offset_(other.offset_) {}
  Buffer& operator=(Buffer&& other) noexcept {
    if (this != &other) {
      release();
      ring_ = std::exchange(other.ring_, nullptr);
      id_ = other.id_;
      length_ = other.length_;
      offset_ = other.offset_;
    }
    return *this;
  }
  ~Buffer() { release(); }

  bool empty() const noexcept { return ring_ == nullptr || length_ == 0; }
  std::size_t size() const noexcept { return ring_ ? length_ : 0; }
  std::span<std::byte> bytes() noexcept {
    return ring_ ? std::span<std::byte>(ring_->data(id_) + offset_, length_)
                 : std::span<std::byte>();
  }
  std::span<const std::byte> bytes() const noexcept {
    return ring_ ? std::span<const std::byte>(ring_->data(id_) + offset_, length_)
                 : std::span<const std::byte>();
  }
  /// Drops the first `n` bytes (after a short send), keeping the slot.
  void consume(std::size_t n) noexcept {
    offset_ += static_cast<uint32_t>(n);
    length_ -= static_cast<uint32_t>(n);
  }

  void release() noexcept {
    if (ring_) std::exchange(ring_, nullptr)->give_back(id_);
  }

 private:
  BufferRing* ring_ = nullptr;
  uint16_t id_ = 0;
  uint32_t length_ = 0;
  uint32_t offset_ = 0;
};

}  // namespace ringtunnel::runtime
