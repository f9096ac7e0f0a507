// SPDX-License-Identifier: MIT
// UniqueFd: the move-only owner of one file descriptor; every fd in ringtunnel lives in one.
#pragma once

#include <unistd.h>

#include <utility>

#include "runtime/assert.hpp"

namespace ringtunnel::net {

/// Owns a file descriptor and closes it when destroyed. -1 means "owns nothing".
///
/// Lifetime: the fd lives exactly as long as the UniqueFd that holds it (or until `release()`).
/// Threads: not synchronised; one owner, like any value. Moving transfers ownership.
class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  /// Takes ownership of `fd`; any negative value means empty.
  explicit UniqueFd(int fd) noexcept : fd_(fd < 0 ? -1 : fd) {}

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  ~UniqueFd() { reset(); }

  /// The fd, still owned by this object (-1 when empty).
  int get() const noexcept { return fd_; }

  /// Gives up ownership without closing: the caller now owns the returned fd.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

  /// Closes the current fd (if any) and takes ownership of `fd` (default: become empty).
  void reset(int fd = -1) noexcept {
    // reset(get()) would close the fd we are about to keep: a caller bug, not a runtime event.
    RT_DCHECK(fd < 0 || fd != fd_);
    const int old = std::exchange(fd_, fd < 0 ? -1 : fd);
    // Never retry close: on Linux the fd is released even when close reports EINTR, and a
    // retry could close an fd another thread has just been given.
    if (old >= 0) static_cast<void>(::close(old));
  }

  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace ringtunnel::net
