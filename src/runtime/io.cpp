// SPDX-License-Identifier: MIT
// Awaiter plumbing: completion → resume, deadlines and cancellation as backend cancels.
#include "runtime/io.hpp"

#include <cerrno>

namespace ringtunnel::runtime {

namespace {
Reactor& current_reactor() {
  Reactor* r = Reactor::current();
  RT_ASSERT(r != nullptr);  // socket operations must be awaited on a reactor thread
  return *r;
}
// Loopback delivery copies zero-copy pages anyway, so zero-copy only pays across a real NIC;
// the default keeps it off until a caller sets the measured threshold (see docs/threading.md).
thread_local std::size_t t_zero_copy_threshold = 0;
}  // namespace

std::size_t zero_copy_threshold() noexcept { return t_zero_copy_threshold; }
void set_zero_copy_threshold(std::size_t bytes) noexcept { t_zero_copy_threshold = bytes; }

IoAwaiter::IoAwaiter(OpOptions options) : reactor_(current_reactor()), options_(options) {
  on_complete = &IoAwaiter::completed;
}

bool IoAwaiter::await_ready() noexcept {
  if (options_.cancellation && options_.cancellation->cancelled()) {
    result_ = -ECANCELED;
    return true;
  }
  return false;
}

void IoAwaiter::begin(std::coroutine_handle<> waiter) {
  waiter_ = waiter;
  if (options_.timeout) {
    deadline_.deadline = Clock::now() + *options_.timeout;
    deadline_.on_fire = &IoAwaiter::deadline_passed;
    deadline_.context = this;
    reactor_.timers().add(deadline_);
  }
  if (options_.cancellation) options_.cancellation->attach(&IoAwaiter::cancel_requested, this);
}

void IoAwaiter::completed(Operation& op, int result, uint32_t flags, uint16_t /*buffer_id*/) {
  auto& self = static_cast<IoAwaiter&>(op);
  // A zero-copy send completes twice: first its byte count (with kMore), then the notification.
  if (!(flags & kNotification)) self.result_ = result;
  if (flags & kMore) return;
  self.reactor_.timers().remove(self.deadline_);
  if (self.options_.cancellation) self.options_.cancellation->detach(&self);
  self.reactor_.resume(self.waiter_);
}

void IoAwaiter::deadline_passed(Timer& timer) {
  auto* self = static_cast<IoAwaiter*>(timer.context);
  self->timed_out_ = true;
  self->reactor_.backend().cancel(*self);
}

void IoAwaiter::cancel_requested(void* self) {
  auto* awaiter = static_cast<IoAwaiter*>(self);
  awaiter->reactor_.backend().cancel(*awaiter);
}

int IoAwaiter::final_result() const noexcept {
  return (timed_out_ && result_ == -ECANCELED) ? -ETIMEDOUT : result_;
}

void ConnectAwaiter::await_suspend(std::coroutine_handle<> h) {
  begin(h);
  backend().submit_connect(*this, fd_, address_.sockaddr(), address_.length());
}

Result<void> ConnectAwaiter::await_resume() noexcept {
  int r = final_result();
  if (r < 0) return errno_code(-r);
  return {};
}

void RecvAwaiter::await_suspend(std::coroutine_handle<> h) {
  begin(h);
  backend().submit_recv(*this, fd_, into_);
}

Result<std::size_t> RecvAwaiter::await_resume() noexcept {
  int r = final_result();
  if (r < 0) return errno_code(-r);
  return static_cast<std::size_t>(r);
}

void SendAwaiter::await_suspend(std::coroutine_handle<> h) {
  begin(h);
  if (zero_copy_) {
    backend().submit_send_zc(*this, fd_, data_);
  } else {
    backend().submit_send(*this, fd_, data_);
  }
}

Result<std::size_t> SendAwaiter::await_resume() noexcept {
  int r = final_result();
  if (r < 0) return errno_code(-r);
  return static_cast<std::size_t>(r);
}

void PollAwaiter::await_suspend(std::coroutine_handle<> h) {
  begin(h);
  backend().submit_poll_readable(*this, fd_);
}

Result<void> PollAwaiter::await_resume() noexcept {
  int r = final_result();
  if (r < 0) return errno_code(-r);
  return {};
}

SleepAwaiter::SleepAwaiter(Clock::duration duration, Cancellation* cancellation)
    : reactor_(current_reactor()), duration_(duration), cancellation_(cancellation) {
  timer_.on_fire = &SleepAwaiter::fired;
  timer_.context = this;
}

bool SleepAwaiter::await_ready() const noexcept {
  return cancellation_ && cancellation_->cancelled();
}

void SleepAwaiter::await_suspend(std::coroutine_handle<> h) {
  waiter_ = h;
  timer_.deadline = Clock::now() + duration_;
  reactor_.timers().add(timer_);
  if (cancellation_) cancellation_->attach(&SleepAwaiter::cancel_requested, this);
}

Result<void> SleepAwaiter::await_resume() noexcept {
  if (cancelled_ || (cancellation_ && cancellation_->cancelled())) {
    return errno_code(ECANCELED);
  }
  return {};
}

void SleepAwaiter::fired(Timer& timer) {
  auto* self = static_cast<SleepAwaiter*>(timer.context);
  if (self->cancellation_) self->cancellation_->detach(self);
  self->reactor_.resume(self->waiter_);
}

void SleepAwaiter::cancel_requested(void* self) {
  // Resume through the ready queue: cancel() may be called from deep inside another coroutine.
  auto* sleeper = static_cast<SleepAwaiter*>(self);
  sleeper->cancelled_ = true;
  sleeper->reactor_.timers().remove(sleeper->timer_);
  sleeper->reactor_.schedule(sleeper->waiter_);
}

Task<Result<void>> send_all(int fd, std::span<const std::byte> data, OpOptions options) {
  const std::size_t zc_from = zero_copy_threshold();
  while (!data.empty()) {
    const bool zc = zc_from != 0 && data.size() >= zc_from;
    auto sent = co_await SendAwaiter(fd, data, zc, options);
    if (!sent) co_return sent.error();
    if (*sent == 0) co_return errno_code(EPIPE);
    data = data.subspan(*sent);
  }
  co_return Result<void>{};
}

}  // namespace ringtunnel::runtime
