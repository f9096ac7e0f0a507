// SPDX-License-Identifier: MIT
// The epoll backend's bookkeeping: operations parked per fd, and the index cancel() finds them by.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <sys/socket.h>

#include "runtime/assert.hpp"
#include "runtime/operation.hpp"

namespace ringtunnel::runtime {

class EpollBufferRing;

/// What a parked operation will retry when its fd becomes ready.
enum class EpollOpKind : uint8_t {
  accept,          // multishot accept4
  recv,            // into caller memory
  recv_provided,   // into a buffer from an EpollBufferRing
  poll_readable,   // poll() for POLLIN
  connect,         // connect() returned EINPROGRESS: wait for writability, then SO_ERROR
  send,
  send_zc,         // like send, plus the kMore / kNotification pair
  recvmsg,         // one datagram and its source address
  sendmsg,         // one datagram
};

/// One operation waiting for readiness, with what it needs to retry its syscall. Kept small:
/// two live in every fd slot, and the table is as long as the highest fd seen.
struct ParkedOp {
  union Target {
    std::byte* in;          // recv
    const std::byte* out;   // send, send_zc
    EpollBufferRing* ring;  // recv_provided
    ::msghdr* message;      // recvmsg, sendmsg (sendmsg only reads it)
  };

  Operation* op = nullptr;  // nullptr: the slot is free
  Target target{nullptr};
  std::size_t length = 0;
  EpollOpKind kind = EpollOpKind::accept;
  bool multishot = false;
};

/// The operations parked on one fd: at most one read side and one write side at a time.
struct FdSlot {
  ParkedOp read;   // accept, recv, recv_provided, poll_readable
  ParkedOp write;  // connect, send, send_zc
  bool empty() const noexcept { return read.op == nullptr && write.op == nullptr; }
};

/// Per-fd slots, indexed by fd and grown on demand (amortised; fds stay small).
class FdTable {
 public:
  /// The slot for `fd` (>= 0), growing the table if needed.
  FdSlot& at(int fd) {
    RT_DCHECK(fd >= 0);
    const auto index = static_cast<std::size_t>(fd);
    if (index >= slots_.size()) slots_.resize(index < 512 ? 1024 : index * 2);
    return slots_[index];
  }
  /// The slot for `fd` if the table reaches that far, else nullptr (never grows).
  FdSlot* find(int fd) noexcept {
    const auto index = static_cast<std::size_t>(fd);
    return fd >= 0 && index < slots_.size() ? &slots_[index] : nullptr;
  }

 private:
  std::vector<FdSlot> slots_;
};

/// Operation* -> fd of its slot, so cancel() finds a parked operation in O(1). Open addressing
/// with linear probing and backward-shift deletion: no node allocation per operation.
class ParkedIndex {
 public:
  void insert(const Operation* op, int fd) {
    RT_DCHECK(op != nullptr && fd >= 0);
    if ((size_ + 1) * 2 > entries_.size()) grow();
    std::size_t i = home(op);
    while (entries_[i].op != nullptr) {
      RT_DCHECK(entries_[i].op != op);
      i = (i + 1) & mask();
    }
    entries_[i] = Entry{op, fd};
    ++size_;
  }

  /// The fd `op` is parked on, or -1.
  int find(const Operation* op) const noexcept {
    const std::size_t i = position(op);
    return i == kAbsent ? -1 : entries_[i].fd;
  }

  void erase(const Operation* op) noexcept {
    std::size_t hole = position(op);
    if (hole == kAbsent) return;
    // Pull later members of the probe run back so no run has a gap a lookup would stop at.
    for (std::size_t j = (hole + 1) & mask(); entries_[j].op != nullptr; j = (j + 1) & mask()) {
      const std::size_t want = home(entries_[j].op);
      const bool stays = hole <= j ? (hole < want && want <= j) : (hole < want || want <= j);
      if (!stays) {
        entries_[hole] = entries_[j];
        hole = j;
      }
    }
    entries_[hole] = Entry{};
    --size_;
  }

  std::size_t size() const noexcept { return size_; }

 private:
  struct Entry {
    const Operation* op = nullptr;
    int fd = -1;
  };
  static constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);

  std::size_t mask() const noexcept { return entries_.size() - 1; }
  std::size_t home(const Operation* op) const noexcept {
    // Fibonacci hashing of the address: operations are aligned, so the low bits carry nothing.
    const auto bits = reinterpret_cast<std::uintptr_t>(op);
    return static_cast<std::size_t>((bits * 0x9E3779B97F4A7C15ull) >> 20) & mask();
  }
  std::size_t position(const Operation* op) const noexcept {
    if (entries_.empty()) return kAbsent;
    for (std::size_t i = home(op); entries_[i].op != nullptr; i = (i + 1) & mask()) {
      if (entries_[i].op == op) return i;
    }
    return kAbsent;
  }
  void grow() {
    std::vector<Entry> old(entries_.empty() ? 64 : entries_.size() * 2);
    old.swap(entries_);
    size_ = 0;
    for (const Entry& e : old) {
      if (e.op != nullptr) insert(e.op, e.fd);
    }
  }

  std::vector<Entry> entries_;  // capacity a power of two, at most half full
  std::size_t size_ = 0;
};

}  // namespace ringtunnel::runtime
