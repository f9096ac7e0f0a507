// SPDX-License-Identifier: MIT
// Receiver: the multishot receive state machine (queue, pause/resume, ENOBUFS, orphaning).
#include "runtime/receiver.hpp"

#include <cerrno>
#include <vector>

namespace ringtunnel::runtime {

namespace {
struct Chunk {
  uint16_t id;
  uint32_t length;
};

/// FIFO of received chunks; grows (rarely) but never shrinks, so steady state allocates nothing.
class ChunkQueue {
 public:
  bool empty() const noexcept { return count_ == 0; }
  std::size_t size() const noexcept { return count_; }
  void push(Chunk c) {
    if (count_ == slots_.size()) grow();
    slots_[(head_ + count_) % slots_.size()] = c;
    ++count_;
  }
  Chunk pop() noexcept {
    Chunk c = slots_[head_];
    head_ = (head_ + 1) % slots_.size();
    --count_;
    return c;
  }

 private:
  void grow() {
    std::vector<Chunk> bigger(slots_.empty() ? 8 : slots_.size() * 2);
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = slots_[(head_ + i) % slots_.size()];
    slots_ = std::move(bigger);
    head_ = 0;
  }
  std::vector<Chunk> slots_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};
}  // namespace

struct Receiver::State : Operation {
  Reactor& reactor;
  BufferRing& ring;
  int fd;
  ChunkQueue queue;
  BufferWaiter buffer_waiter;
  int final_error = 0;  // once set (or eof), no more arming
  bool eof = false;
  bool pausing = false;  // a cancel for back-pressure is in flight
  bool orphaned = false;
  std::coroutine_handle<> waiter;

  State(Reactor& r, int socket) : reactor(r), ring(r.buffers()), fd(socket) {
    on_complete = &State::completed;
    buffer_waiter.on_refill = &State::buffers_back;
    buffer_waiter.context = this;
  }

  bool finished() const noexcept { return eof || final_error != 0; }

  void arm() {
    if (in_flight || finished() || orphaned) return;
    if (ring.available() == 0) {
      reactor.wait_for_buffers(buffer_waiter);
      return;
    }
    pausing = false;
    reactor.backend().submit_recv_provided(*this, fd, ring, /*multishot=*/true);
  }

  void release_queue() {
    while (!queue.empty()) ring.give_back(queue.pop().id);
  }

  void wake_waiter() {
    if (waiter && (!queue.empty() || finished())) {
      reactor.resume(std::exchange(waiter, nullptr));
    }
  }

  static void buffers_back(BufferWaiter& w) {
    auto* self = static_cast<State*>(w.context);
    if (self->waiter) self->arm();
  }

  void take(int result, uint32_t flags, uint16_t id) {
    if (!(flags & kBufferSelected)) return;
    ring.note_taken();
    if (result > 0 && !orphaned) {
      queue.push({id, static_cast<uint32_t>(result)});
    } else {
      ring.give_back(id);
    }
  }

  static void completed(Operation& op, int result, uint32_t flags, uint16_t id) {
    auto& self = static_cast<State&>(op);
    self.take(result, flags, id);
    if (result == 0) {
      self.eof = true;
    } else if (result == -ENOBUFS) {
      self.ring.count_exhaustion();
    } else if (result < 0 && result != -ECANCELED) {
      self.final_error = -result;
    }
    if (self.orphaned) {
      if (!self.in_flight) delete &self;
      return;
    }
    if (!self.in_flight) {
      self.pausing = false;
      // The multishot ended (ENOBUFS, a paused receive's cancel, or the kernel's own choice):
      // carry on at once if someone waits and there is room.
      if (self.waiter && self.queue.empty()) self.arm();
    } else if (self.queue.size() >= kMaxQueued && !self.pausing) {
      self.pausing = true;
      self.reactor.backend().cancel(self);
    }
    self.wake_waiter();
  }
};

Receiver::Receiver(int fd) : state_(nullptr) {
  Reactor* r = Reactor::current();
  RT_ASSERT(r != nullptr);
  state_ = new State(*r, fd);
}

Receiver::~Receiver() {
  state_->orphaned = true;
  state_->release_queue();
  state_->reactor.cancel_buffer_wait(state_->buffer_waiter);
  if (state_->in_flight) {
    state_->reactor.backend().cancel(*state_);  // freed by its final completion
  } else {
    delete state_;
  }
}

void Receiver::stop() {
  State& s = *state_;
  if (s.final_error == 0) s.final_error = ECANCELED;
  s.reactor.cancel_buffer_wait(s.buffer_waiter);
  if (s.in_flight) s.reactor.backend().cancel(s);
  if (s.waiter) s.reactor.schedule(std::exchange(s.waiter, nullptr));
}

bool Receiver::Awaiter::await_ready() const noexcept {
  const State& s = *receiver_.state_;
  return !s.queue.empty() || s.finished();
}

void Receiver::Awaiter::await_suspend(std::coroutine_handle<> h) {
  receiver_.state_->waiter = h;
  receiver_.state_->arm();
}

Result<Buffer> Receiver::Awaiter::await_resume() {
  State& s = *receiver_.state_;
  if (!s.queue.empty()) {
    Chunk c = s.queue.pop();
    // Keep data flowing while the consumer works on this buffer.
    if (!s.in_flight && s.queue.size() < kMaxQueued / 2) s.arm();
    return Buffer(s.ring, c.id, c.length);
  }
  if (s.final_error != 0) return errno_code(s.final_error);
  return Buffer();  // end of stream
}

}  // namespace ringtunnel::runtime
