// SPDX-License-Identifier: MIT
// MirroredBuffer: one memfd mapped twice into a reserved range of twice its size.
#include "runtime/mirrored_buffer.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "net/unique_fd.hpp"

namespace ringtunnel::runtime {

Result<MirroredBuffer> MirroredBuffer::create(std::size_t min_size) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t size = (min_size + page - 1) / page * page;
  // The fd is needed only while mapping: the mappings keep the memory alive.
  net::UniqueFd memory(::memfd_create("ringtunnel-ring", MFD_CLOEXEC));
  if (!memory) return errno_code(errno);
  if (::ftruncate(memory.get(), static_cast<off_t>(size)) != 0) return errno_code(errno);
  // Reserve twice the size, then map the same pages into both halves.
  void* reserved = ::mmap(nullptr, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (reserved == MAP_FAILED) return errno_code(errno);
  auto* base = static_cast<std::byte*>(reserved);
  for (std::byte* half : {base, base + size}) {
    void* mapped = ::mmap(half, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                          memory.get(), 0);
    if (mapped == MAP_FAILED) {
      const int err = errno;
      ::munmap(reserved, 2 * size);
      return errno_code(err);
    }
  }
  return MirroredBuffer(base, size);
}

MirroredBuffer::MirroredBuffer(MirroredBuffer&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      begin_(std::exchange(other.begin_, 0)),
      end_(std::exchange(other.end_, 0)) {}

MirroredBuffer& MirroredBuffer::operator=(MirroredBuffer&& other) noexcept {
  if (this != &other) {
    unmap();
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
  }
  return *this;
}

MirroredBuffer::~MirroredBuffer() { unmap(); }

void MirroredBuffer::unmap() noexcept {
  if (base_ != nullptr) ::munmap(base_, 2 * size_);
  base_ = nullptr;
}

void MirroredBuffer::consume(std::size_t n) noexcept {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;  // empty: start over at the front (warm pages)
  if (begin_ >= size_) {                  // keep positions small; the offsets stay the same
    begin_ -= size_;
    end_ -= size_;
  }
}

}  // namespace ringtunnel::runtime
