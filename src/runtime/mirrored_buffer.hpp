// SPDX-License-Identifier: MIT
// MirroredBuffer: a byte ring mapped twice back to back, so every window of it is contiguous.
#pragma once

#include <cstddef>
#include <span>

#include "runtime/result.hpp"

namespace ringtunnel::runtime {

/// A receive ring whose memory appears twice in a row in the address space (one memfd mapped
/// at [base, base + size) and again at [base + size, base + 2 * size)), so any `size` bytes
/// starting anywhere in the ring can be read and written as one span. A session receives into
/// it and opens records in place where they lie, even across the wrap: no compaction copy.
///
/// Positions only grow (`begin` <= `end`, `end - begin` <= size); the data of [begin, end)
/// is at data() + begin % size. Pages are touched lazily, so an idle ring costs address space
/// only. No fd is kept open (the mappings hold the memory). Not thread-safe; move-only.
class MirroredBuffer {
 public:
  /// A ring of at least `min_size` bytes (rounded up to whole pages).
  /// Errors: the errno of memfd_create/ftruncate/mmap (EMFILE, ENOMEM).
  [[nodiscard]] static Result<MirroredBuffer> create(std::size_t min_size);

  MirroredBuffer(MirroredBuffer&& other) noexcept;
  MirroredBuffer& operator=(MirroredBuffer&& other) noexcept;
  MirroredBuffer(const MirroredBuffer&) = delete;
  MirroredBuffer& operator=(const MirroredBuffer&) = delete;
  ~MirroredBuffer();

  std::size_t size() const noexcept { return size_; }
  /// Bytes held: [begin, end).
  std::size_t used() const noexcept { return end_ - begin_; }
  /// The bytes held, contiguous.
  std::span<std::byte> readable() noexcept { return {base_ + begin_ % size_, used()}; }
  /// The free space after the held bytes, contiguous.
  std::span<std::byte> writable() noexcept { return {base_ + end_ % size_, size_ - used()}; }
  /// `n` bytes were written into writable().
  void commit(std::size_t n) noexcept { end_ += n; }
  /// The first `n` held bytes are done with.
  void consume(std::size_t n) noexcept;

 private:
  MirroredBuffer(std::byte* base, std::size_t size) noexcept : base_(base), size_(size) {}
  void unmap() noexcept;

  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace ringtunnel::runtime
