// SPDX-License-Identifier: MIT
// Awaitable socket operations and sleep for coroutines running on a reactor.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <coroutine>
#include <cstddef>
#include <optional>
#include <span>

#include "net/socket_address.hpp"
#include "runtime/cancellation.hpp"
#include "runtime/reactor.hpp"
#include "runtime/result.hpp"
#include "runtime/task.hpp"

namespace ringtunnel::runtime {

/// How long an operation may take, and who may cancel it. A timeout ends it with ETIMEDOUT.
struct OpOptions {
  std::optional<Clock::duration> timeout;
  Cancellation* cancellation = nullptr;
};

/// Shared part of every single-shot awaiter: the Operation the backend completes, the waiting
/// coroutine, and the optional deadline/cancellation. It lives in the awaiting coroutine's frame,
/// so nothing is allocated per operation. Must be awaited on a reactor thread.
class IoAwaiter : protected Operation {
 public:
  explicit IoAwaiter(OpOptions options);
  IoAwaiter(const IoAwaiter&) = delete;
  IoAwaiter& operator=(const IoAwaiter&) = delete;

  bool await_ready() noexcept;

 protected:
  /// Prepares the wait (deadline, cancellation hook); the subclass then submits.
  void begin(std::coroutine_handle<> waiter);
  Backend& backend() noexcept { return reactor_.backend(); }
  /// The result with a timeout turned into ETIMEDOUT.
  int final_result() const noexcept;

  Reactor& reactor_;
  int result_ = 0;
  /// Optional: called on each final completion; returning true means the subclass submitted the
  /// operation again (e.g. the rest of a short send) and the waiter must not be resumed yet.
  bool (*resubmit_)(IoAwaiter& self) = nullptr;

 private:
  static void completed(Operation& op, int result, uint32_t flags, uint16_t buffer_id);
  static void deadline_passed(Timer& timer);
  static void cancel_requested(void* self);

  std::coroutine_handle<> waiter_;
  OpOptions options_;
  Timer deadline_;
  bool timed_out_ = false;
  bool notification_pending_ = false;
};

struct ConnectAwaiter : IoAwaiter {
  ConnectAwaiter(int fd, const net::SocketAddress& address, OpOptions options)
      : IoAwaiter(options), fd_(fd), address_(address) {}
  void await_suspend(std::coroutine_handle<> h);
  Result<void> await_resume() noexcept;

 private:
  int fd_;
  net::SocketAddress address_;  // copied: the kernel reads it after submission
};

struct RecvAwaiter : IoAwaiter {
  RecvAwaiter(int fd, std::span<std::byte> into, OpOptions options)
      : IoAwaiter(options), fd_(fd), into_(into) {}
  void await_suspend(std::coroutine_handle<> h);
  Result<std::size_t> await_resume() noexcept;

 private:
  int fd_;
  std::span<std::byte> into_;
};

struct SendAwaiter : IoAwaiter {
  SendAwaiter(int fd, std::span<const std::byte> data, bool zero_copy, OpOptions options)
      : IoAwaiter(options), fd_(fd), data_(data), zero_copy_(zero_copy) {}
  void await_suspend(std::coroutine_handle<> h);
  Result<std::size_t> await_resume() noexcept;

 private:
  int fd_;
  std::span<const std::byte> data_;
  bool zero_copy_;
};

/// One datagram received (recv_from).
struct Datagram {
  std::size_t size = 0;    ///< bytes stored
  bool truncated = false;  ///< the datagram was larger than the buffer (the rest is lost)
};

struct RecvFromAwaiter : IoAwaiter {
  RecvFromAwaiter(int fd, std::span<std::byte> into, ::sockaddr_storage* from, OpOptions options);
  void await_suspend(std::coroutine_handle<> h);
  /// On success `*from` holds the source address (message_.msg_namelen says how much).
  Result<Datagram> await_resume() noexcept;

 private:
  int fd_;
  ::iovec iov_;
  ::msghdr message_{};
};

struct SendToAwaiter : IoAwaiter {
  SendToAwaiter(int fd, std::span<const std::byte> data, const ::sockaddr* to, ::socklen_t to_len,
                OpOptions options);
  void await_suspend(std::coroutine_handle<> h);
  Result<std::size_t> await_resume() noexcept;

 private:
  int fd_;
  ::iovec iov_;
  ::msghdr message_{};
};

struct PollAwaiter : IoAwaiter {
  PollAwaiter(int fd, OpOptions options) : IoAwaiter(options), fd_(fd) {}
  void await_suspend(std::coroutine_handle<> h);
  Result<void> await_resume() noexcept;

 private:
  int fd_;
};

/// Sends a whole span, resubmitting after short sends from the completion itself, so a send of
/// any size costs no allocation and one resume. Zero-copy for spans of at least
/// zero_copy_threshold() bytes.
struct SendAllAwaiter : IoAwaiter {
  SendAllAwaiter(int fd, std::span<const std::byte> data, OpOptions options);
  bool await_ready() noexcept { return data_.empty() || IoAwaiter::await_ready(); }
  void await_suspend(std::coroutine_handle<> h);
  Result<void> await_resume() noexcept;

 private:
  static bool send_rest(IoAwaiter& self);
  void submit();
  int fd_;
  std::span<const std::byte> data_;
  bool zero_copy_;
};

/// Sleep: a reactor timer, no kernel request.
class SleepAwaiter {
 public:
  SleepAwaiter(Clock::duration duration, Cancellation* cancellation);
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  bool await_ready() const noexcept;
  void await_suspend(std::coroutine_handle<> h);
  Result<void> await_resume() noexcept;

 private:
  static void fired(Timer& timer);
  static void cancel_requested(void* self);
  Reactor& reactor_;
  Clock::duration duration_;
  Cancellation* cancellation_;
  Timer timer_;
  std::coroutine_handle<> waiter_;
  bool cancelled_ = false;
};

/// Connects a nonblocking socket.
inline ConnectAwaiter connect(int fd, const net::SocketAddress& address, OpOptions options = {}) {
  return {fd, address, options};
}
/// One receive into caller memory; 0 means the peer closed its side.
inline RecvAwaiter recv(int fd, std::span<std::byte> into, OpOptions options = {}) {
  return {fd, into, options};
}
/// One send; the result may be short. Prefer send_all().
inline SendAwaiter send(int fd, std::span<const std::byte> data, OpOptions options = {}) {
  return {fd, data, false, options};
}
/// One zero-copy send; resumes once the kernel has released `data`.
inline SendAwaiter send_zero_copy(int fd, std::span<const std::byte> data, OpOptions options = {}) {
  return {fd, data, true, options};
}
/// One datagram and its source address (UDP): boundaries kept, `truncated` when `into` was
/// too small. `into` and `*from` stay valid until it completes.
inline RecvFromAwaiter recv_from(int fd, std::span<std::byte> into, ::sockaddr_storage* from,
                                 OpOptions options = {}) {
  return {fd, into, from, options};
}
/// One datagram to `to` (or, with `to` null, on a connected socket).
inline SendToAwaiter send_to(int fd, std::span<const std::byte> data, const ::sockaddr* to,
                             ::socklen_t to_len, OpOptions options = {}) {
  return {fd, data, to, to_len, options};
}
/// Waits until `fd` is readable.
inline PollAwaiter wait_readable(int fd, OpOptions options = {}) { return {fd, options}; }
/// Suspends for `duration` (ECANCELED if cancelled first).
inline SleepAwaiter sleep(Clock::duration duration, Cancellation* cancellation = nullptr) {
  return {duration, cancellation};
}

/// Sends all of `data` (see SendAllAwaiter); EPIPE/ECONNRESET when the peer has gone.
inline SendAllAwaiter send_all(int fd, std::span<const std::byte> data, OpOptions options = {}) {
  return {fd, data, options};
}

/// The size from which send_all() uses zero-copy sends; 0 (the default) disables them. Per
/// thread. See bench/runtime/send_zc_bench.cpp for the measured crossover on a host.
std::size_t zero_copy_threshold() noexcept;
void set_zero_copy_threshold(std::size_t bytes) noexcept;

}  // namespace ringtunnel::runtime
