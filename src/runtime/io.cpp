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
// Zero-copy sends pay a second completion (the kernel's notification that the pages are free);
// bench/runtime/send_zc_bench.cpp measured that waiting for it costs more than the copy saves
// when the receiver runs on another CPU (up to 64 KiB), and wins from 32 KiB only when it shares
// the sender's CPU. Off by default; callers who know their placement set a threshold.
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
  if (self.resubmit_ && self.result_ > 0 && !self.timed_out_ && self.resubmit_(self)) return;
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

RecvFromAwaiter::RecvFromAwaiter(int fd, std::span<std::byte> into, ::sockaddr_storage* from,
                                 OpOptions options)
    : IoAwaiter(options), fd_(fd), iov_{into.data(), into.size()} {
  message_.msg_name = from;
  message_.msg_namelen = sizeof(::sockaddr_storage);
  message_.msg_iov = &iov_;
  message_.msg_iovlen = 1;
}

void RecvFromAwaiter::await_suspend(std::coroutine_handle<> h) {
  begin(h);
  backend().submit_recvmsg(*this, fd_, &message_);
}

Result<Datagram> RecvFromAwaiter::await_resume() noexcept {
  int r = final_result();
  if (r < 0) return errno_code(-r);
  return Datagram{static_cast<std::size_t>(r), (message_.msg_flags & MSG_TRUNC) != 0};
}

SendToAwaiter::SendToAwaiter(int fd, std::span<const std::byte> data, const ::sockaddr* to,
                             ::socklen_t to_len, OpOptions options)
    : IoAwaiter(options), fd_(fd), iov_{const_cast<std::byte*>(data.data()), data.size()} {
  message_.msg_name = const_cast<::sockaddr*>(to);
  message_.msg_namelen = to == nullptr ? 0 : to_len;
  message_.msg_iov = &iov_;
  message_.msg_iovlen = 1;
}

void SendToAwaiter::await_suspend(std::coroutine_handle<> h) {
  begin(h);
  backend().submit_sendmsg(*this, fd_, &message_);
}

Result<std::size_t> SendToAwaiter::await_resume() noexcept {
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

SendAllAwaiter::SendAllAwaiter(int fd, std::span<const std::byte> data, OpOptions options)
    : IoAwaiter(options), fd_(fd), data_(data) {
  const std::size_t zc_from = zero_copy_threshold();
  zero_copy_ = zc_from != 0 && data.size() >= zc_from;
  resubmit_ = &SendAllAwaiter::send_rest;
}

void SendAllAwaiter::submit() {
  if (zero_copy_) {
    backend().submit_send_zc(*this, fd_, data_);
  } else {
    backend().submit_send(*this, fd_, data_);
  }
}

void SendAllAwaiter::await_suspend(std::coroutine_handle<> h) {
  begin(h);
  submit();
}

bool SendAllAwaiter::send_rest(IoAwaiter& base) {
  auto& self = static_cast<SendAllAwaiter&>(base);
  self.data_ = self.data_.subspan(static_cast<std::size_t>(self.result_));
  if (self.data_.empty()) return false;
  self.submit();
  return true;
}

Result<void> SendAllAwaiter::await_resume() noexcept {
  if (data_.empty()) return {};
  int r = final_result();
  if (r < 0) return errno_code(-r);
  return errno_code(EPIPE);  // the kernel took 0 bytes: the connection cannot carry more
}

}  // namespace ringtunnel::runtime
