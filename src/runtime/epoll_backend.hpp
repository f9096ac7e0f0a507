// SPDX-License-Identifier: MIT
// EpollBackend: the fallback Backend that emulates io_uring's completions on epoll readiness.
#pragma once

#include <sys/epoll.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/unique_fd.hpp"
#include "runtime/backend.hpp"
#include "runtime/buffer_ring.hpp"
#include "runtime/epoll_fd_table.hpp"

namespace ringtunnel::runtime {

/// Provided buffers for the epoll backend: the backend picks from a user-space LIFO free list
/// (the most recently returned buffer is the one most likely still in cache).
/// Owned by one reactor; not thread-safe.
class EpollBufferRing final : public BufferRing {
 public:
  EpollBufferRing(uint16_t group_id, uint32_t count, uint32_t size);

  bool exhausted() const noexcept { return free_.empty(); }
  /// The buffer the next receive should fill; the ring must not be exhausted.
  uint16_t next() const noexcept { return free_.back(); }
  /// Marks next() as taken (a receive put bytes in it). The consumer of the completion counts
  /// it (BufferRing::note_taken), as with io_uring where only the consumer sees the CQE.
  void take() noexcept { free_.pop_back(); }

 protected:
  void recycle(uint16_t buffer_id) noexcept override;

 private:
  std::vector<uint16_t> free_;  // reserved to count(): recycle never allocates
};

/// The epoll fallback, used when io_uring is unavailable or `--io-backend=epoll` is given.
///
/// Every submit tries its syscall at once (nonblocking); if it would block, the operation is
/// parked on its fd (one read-side and one write-side operation per fd at most) and retried on
/// edge-triggered readiness until EAGAIN. Results, flags and buffer ids seen by
/// Operation::on_complete match the io_uring backend's; on_complete only ever runs inside wait().
///
/// Threads: everything on the owning reactor's thread, except wake(). Callers must cancel a
/// parked operation (or see its final completion) before closing its fd: unlike io_uring, epoll
/// holds no reference to the file, and a reused fd number would otherwise reach the old operation.
class EpollBackend final : public Backend {
 public:
  /// Takes an epoll instance and a nonblocking eventfd already in its set (make_epoll_backend).
  EpollBackend(net::UniqueFd epoll_fd, net::UniqueFd wake_fd);
  ~EpollBackend() override;

  BackendKind kind() const noexcept override { return BackendKind::epoll; }
  std::string describe() const override;

  void submit_accept_multishot(Operation& op, int listen_fd) override;
  void submit_connect(Operation& op, int fd, const sockaddr* addr, socklen_t len) override;
  void submit_recv_provided(Operation& op, int fd, BufferRing& ring, bool multishot) override;
  void submit_recv(Operation& op, int fd, std::span<std::byte> into) override;
  void submit_send(Operation& op, int fd, std::span<const std::byte> data) override;
  void submit_send_zc(Operation& op, int fd, std::span<const std::byte> data) override;
  void submit_recvmsg(Operation& op, int fd, ::msghdr* message) override;
  void submit_sendmsg(Operation& op, int fd, const ::msghdr* message) override;
  void submit_poll_readable(Operation& op, int fd) override;
  void cancel(Operation& op) override;

  unsigned wait(std::optional<std::chrono::nanoseconds> timeout) override;

  void ring_doorbell(Backend& target) override;
  void wake() noexcept override;

  std::unique_ptr<BufferRing> make_buffer_ring(uint16_t group_id, uint32_t count,
                                               uint32_t size) override;

 private:
  struct Completion {
    Operation* op;
    int result;
    uint32_t flags;
    uint16_t buffer_id;
  };
  enum class Attempt { done, blocked };

  /// Marks `op` in flight; false if it already failed (bad fd, that side of the fd busy).
  bool begin(Operation& op, EpollOpKind kind, int fd);
  /// begin(), then the syscall at once; parks the operation if it would block.
  void start(int fd, const ParkedOp& parked);
  Attempt attempt(int fd, const ParkedOp& parked);
  Attempt try_accept(int fd, Operation& op);
  Attempt try_transfer(int fd, const ParkedOp& parked);
  Attempt try_recv_provided(int fd, const ParkedOp& parked);
  Attempt try_poll_readable(int fd, Operation& op);
  Attempt try_connect_done(int fd, Operation& op);

  void park(int fd, const ParkedOp& parked);
  void unpark(ParkedOp& side) noexcept;
  void handle_event(int fd, uint32_t events);
  void drain_wake() noexcept;

  void queue(Operation& op, int result, uint32_t flags, uint16_t buffer_id = 0);
  /// Queues the operation's final completion; send_zc's is a kMore result plus kNotification.
  void queue_final(Operation& op, EpollOpKind kind, int result);
  unsigned deliver_pending();

  net::UniqueFd epoll_fd_;
  net::UniqueFd wake_fd_;  // the only member another thread touches (wake() writes to it)
  FdTable fds_;
  ParkedIndex parked_;
  std::vector<Completion> pending_;     // queued by submits and events, delivered by wait()
  std::vector<Completion> delivering_;  // the batch being delivered; swapped with pending_
  std::array<epoll_event, 128> events_{};
};

/// Creates an epoll backend for the calling thread, or returns nullptr and says why in `error`
/// (which may be nullptr).
std::unique_ptr<Backend> make_epoll_backend(std::string* error);

}  // namespace ringtunnel::runtime
