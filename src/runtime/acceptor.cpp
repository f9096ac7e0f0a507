// SPDX-License-Identifier: MIT
// Acceptor: multishot accept state, orphaned to the kernel's final completion on destruction.
#include "runtime/acceptor.hpp"

#include <unistd.h>

#include <cerrno>

namespace ringtunnel::runtime {

struct Acceptor::State : Operation {
  Reactor& reactor;
  int listen_fd;
  std::deque<int> ready;  // accepted fds not yet handed out
  int error = 0;          // one error to report, then cleared
  bool stopped = false;
  bool orphaned = false;
  std::coroutine_handle<> waiter;

  State(Reactor& r, int fd) : reactor(r), listen_fd(fd) { on_complete = &State::completed; }

  void arm() {
    if (!in_flight && !stopped) reactor.backend().submit_accept_multishot(*this, listen_fd);
  }

  void close_queued() {
    for (int fd : ready) ::close(fd);
    ready.clear();
  }

  static void completed(Operation& op, int result, uint32_t /*flags*/, uint16_t /*buffer*/) {
    auto& self = static_cast<State&>(op);
    if (result >= 0) {
      if (self.orphaned || self.stopped) {
        ::close(result);
      } else {
        self.ready.push_back(result);
      }
    } else if (result != -ECANCELED) {
      self.error = -result;
    }
    if (self.orphaned) {
      if (!self.in_flight) delete &self;
      return;
    }
    if (self.waiter && (!self.ready.empty() || self.error != 0 || self.stopped)) {
      self.reactor.resume(std::exchange(self.waiter, nullptr));
    }
  }
};

Acceptor::Acceptor(int listen_fd) : state_(nullptr) {
  Reactor* r = Reactor::current();
  RT_ASSERT(r != nullptr);
  state_ = new State(*r, listen_fd);
}

Acceptor::~Acceptor() {
  state_->orphaned = true;
  state_->close_queued();
  if (state_->in_flight) {
    state_->reactor.backend().cancel(*state_);  // freed by its final completion
  } else {
    delete state_;
  }
}

void Acceptor::stop() {
  state_->stopped = true;
  state_->close_queued();
  if (state_->in_flight) state_->reactor.backend().cancel(*state_);
  if (state_->waiter) state_->reactor.schedule(std::exchange(state_->waiter, nullptr));
}

bool Acceptor::Awaiter::await_ready() const noexcept {
  const State& s = *acceptor_.state_;
  return !s.ready.empty() || s.error != 0 || s.stopped;
}

void Acceptor::Awaiter::await_suspend(std::coroutine_handle<> h) {
  acceptor_.state_->waiter = h;
  acceptor_.state_->arm();
}

Result<net::UniqueFd> Acceptor::Awaiter::await_resume() {
  State& s = *acceptor_.state_;
  if (!s.ready.empty()) {
    net::UniqueFd fd(s.ready.front());
    s.ready.pop_front();
    return fd;
  }
  if (s.stopped) return errno_code(ECANCELED);
  RT_DCHECK(s.error != 0);
  return errno_code(std::exchange(s.error, 0));
}

}  // namespace ringtunnel::runtime
