// SPDX-License-Identifier: MIT
// Backend: the I/O interface a reactor drives; io_uring and epoll implement it.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "runtime/buffer_ring.hpp"
#include "runtime/operation.hpp"

namespace ringtunnel::runtime {

enum class BackendKind { io_uring, epoll };
const char* to_string(BackendKind kind) noexcept;

/// What a reactor asks of its I/O backend. Every submit_* call only queues the request: results
/// arrive through Operation::on_complete during a later wait(). Results follow io_uring's
/// convention: >= 0 on success, -errno on failure, -ECANCELED after cancel().
///
/// One backend belongs to one reactor thread; none of its methods may be called from another
/// thread, except that another reactor's backend may target it with ring_doorbell().
class Backend {
 public:
  virtual ~Backend() = default;
  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  virtual BackendKind kind() const noexcept = 0;
  /// One line for the log: the backend and the features it found (e.g. "io_uring (defer_taskrun)").
  virtual std::string describe() const = 0;

  /// Multishot accept: one completion per accepted socket (result = fd, nonblocking+cloexec),
  /// with kMore while still armed.
  virtual void submit_accept_multishot(Operation& op, int listen_fd) = 0;
  /// Connect a nonblocking socket. The address must stay valid until completion.
  virtual void submit_connect(Operation& op, int fd, const sockaddr* addr, socklen_t len) = 0;
  /// Receive into a buffer taken from `ring` (kBufferSelected + buffer_id on data, result 0 at
  /// EOF). Multishot keeps receiving until an error, EOF, -ENOBUFS (ring empty) or cancel().
  virtual void submit_recv_provided(Operation& op, int fd, BufferRing& ring, bool multishot) = 0;
  /// Receive into caller memory that stays valid until completion.
  virtual void submit_recv(Operation& op, int fd, std::span<std::byte> into) = 0;
  /// Send (MSG_NOSIGNAL). The result is the number of bytes the kernel took, possibly short.
  virtual void submit_send(Operation& op, int fd, std::span<const std::byte> data) = 0;
  /// Zero-copy send: the result completion may carry kMore, then a kNotification completion says
  /// the memory may be reused. Backends without zero-copy behave like submit_send.
  virtual void submit_send_zc(Operation& op, int fd, std::span<const std::byte> data) = 0;
  /// Receive one datagram and its source address (recvmsg). `message` (its iovecs, address
  /// buffer and flags) stays valid until completion; msg_flags gets MSG_TRUNC when the
  /// datagram was larger than the buffer. Result: the bytes stored.
  virtual void submit_recvmsg(Operation& op, int fd, ::msghdr* message) = 0;
  /// Send one datagram (sendmsg, MSG_NOSIGNAL) to msg_name, or on a connected socket.
  virtual void submit_sendmsg(Operation& op, int fd, const ::msghdr* message) = 0;
  /// Completes (result = poll mask) once `fd` is readable.
  virtual void submit_poll_readable(Operation& op, int fd) = 0;
  /// Asks for `op` to end early; it then completes with -ECANCELED (or its natural result if it
  /// won the race). A no-op for an operation that is not in flight.
  virtual void cancel(Operation& op) = 0;

  /// Submits what was queued, waits up to `timeout` (nullopt: forever, zero: don't block) for at
  /// least one completion or a doorbell, and delivers every completion that is ready.
  /// Returns the number of completions delivered.
  virtual unsigned wait(std::optional<std::chrono::nanoseconds> timeout) = 0;

  /// Wakes `target` (another reactor's backend, same kind) out of wait(). Called on this
  /// backend's thread; the doorbell itself may be queued here and sent with the next submit.
  virtual void ring_doorbell(Backend& target) = 0;
  /// Wakes this backend out of wait(). The only method that may be called from any thread.
  virtual void wake() noexcept = 0;

  /// Time spent blocked in the kernel inside wait() so far (not the callbacks it ran): what
  /// the reactor's load estimate counts as idle.
  std::chrono::nanoseconds blocked_total() const noexcept { return blocked_total_; }

  /// Makes a ring of `count` (a power of two) provided buffers of `size` bytes each.
  virtual std::unique_ptr<BufferRing> make_buffer_ring(uint16_t group_id, uint32_t count,
                                                       uint32_t size) = 0;
 protected:
  std::chrono::nanoseconds blocked_total_{0};
};

/// Which backend to run: the best available, or the one the user named.
enum class BackendChoice { automatic, io_uring, epoll };

/// Creates a backend for the calling thread. With `automatic`, io_uring is tried first and epoll
/// is used when io_uring is unavailable; `why` receives a human reason for the choice.
std::unique_ptr<Backend> make_backend(BackendChoice choice, unsigned queue_depth, std::string* why);

/// Reports whether io_uring can be set up here, and if not, why (seccomp, sysctl, old kernel).
bool io_uring_available(std::string* why_not);

}  // namespace ringtunnel::runtime
