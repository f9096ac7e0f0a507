// SPDX-License-Identifier: MIT
// UringBackend: the io_uring implementation of Backend (Linux >= 6.0, liburing >= 2.3).
#pragma once

#include <liburing.h>

#include <memory>
#include <string>

#include "runtime/backend.hpp"

namespace ringtunnel::runtime {

/// One io_uring per reactor thread, created on that thread (SINGLE_ISSUER binds it there).
/// Every request carries its Operation's address as user_data; small values are reserved tags.
class UringBackend final : public Backend {
 public:
  /// Sets up the ring; returns nullptr with the reason in `error` when io_uring is unusable here.
  static std::unique_ptr<UringBackend> create(unsigned queue_depth, std::string* error);
  ~UringBackend() override;

  BackendKind kind() const noexcept override { return BackendKind::io_uring; }
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

  io_uring& ring() noexcept { return ring_; }

 private:
  UringBackend() = default;
  io_uring_sqe* next_sqe();
  io_uring_sqe* prepare(Operation& op);
  void arm_wake_poll();
  unsigned reap();
  void dispatch(uint64_t user_data, int result, uint32_t cqe_flags);

  io_uring ring_{};
  bool ring_ready_ = false;
  int wake_fd_ = -1;
  unsigned setup_flags_ = 0;
};

}  // namespace ringtunnel::runtime
