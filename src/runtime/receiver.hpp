// SPDX-License-Identifier: MIT
// Receiver: multishot receives into provided buffers for one socket, with back-pressure.
#pragma once

#include <coroutine>

#include "runtime/buffer_ring.hpp"
#include "runtime/reactor.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::runtime {

/// Receives from `fd` (not owned) into the reactor's provided buffers, so an idle socket holds
/// no buffer. While the consumer is busy, data keeps arriving in the background up to a small
/// number of queued buffers; beyond that the receive is paused (back-pressure reaches the peer
/// through TCP). When the whole ring is empty (-ENOBUFS) the receiver waits for buffers to come
/// back instead of spinning. Create, use and destroy on one reactor thread.
class Receiver {
 public:
  /// Buffers queued before the receive is paused.
  static constexpr unsigned kMaxQueued = 4;

  explicit Receiver(int fd);
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  class Awaiter {
   public:
    explicit Awaiter(Receiver& receiver) : receiver_(receiver) {}
    bool await_ready() const noexcept;
    void await_suspend(std::coroutine_handle<> h);
    /// Data, an empty Buffer at end of stream, or an error (ECANCELED after stop()).
    Result<Buffer> await_resume();

   private:
    Receiver& receiver_;
  };

  Awaiter receive() { return Awaiter(*this); }
  /// Ends a pending receive() with ECANCELED; later receives fail the same way.
  void stop();

 private:
  struct State;  // outlives the Receiver until the kernel's last completion
  State* state_;
};

}  // namespace ringtunnel::runtime
