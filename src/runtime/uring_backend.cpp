// SPDX-License-Identifier: MIT
// UringBackend: ring setup with the best flags the kernel takes, submission, batched reaping.
#include "runtime/uring_backend.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <initializer_list>

#include "runtime/assert.hpp"
#include "runtime/uring_buffer_ring.hpp"

namespace ringtunnel::runtime {

namespace {
// user_data values below one page never collide with an Operation's address.
constexpr uint64_t kIgnoreTag = 0;      // cancel requests and similar bookkeeping
constexpr uint64_t kDoorbellTag = 16;   // a MSG_RING doorbell from another reactor
constexpr uint64_t kWakeTag = 32;       // the wake eventfd became readable
constexpr uint64_t kMaxTag = 4096;
constexpr uint64_t kDoorbellSendBit = 1;  // user_data = &target | 1: our own MSG_RING failed

bool kernel_at_least(int major, int minor) {
  utsname u{};
  if (uname(&u) != 0) return false;
  int ma = 0;
  int mi = 0;
  if (std::sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

bool probe_has_all(io_uring& ring, std::initializer_list<int> opcodes) {
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (!probe) return false;
  bool ok = true;
  for (int opcode : opcodes) ok = ok && io_uring_opcode_supported(probe, opcode) != 0;
  io_uring_free_probe(probe);
  return ok;
}

uint32_t to_flags(uint32_t cqe_flags) {
  uint32_t flags = 0;
  if (cqe_flags & IORING_CQE_F_MORE) flags |= kMore;
  if (cqe_flags & IORING_CQE_F_BUFFER) flags |= kBufferSelected;
  if (cqe_flags & IORING_CQE_F_NOTIF) flags |= kNotification;
  return flags;
}
}  // namespace

std::unique_ptr<UringBackend> UringBackend::create(unsigned queue_depth, std::string* error) {
  if (!kernel_at_least(6, 0)) {
    *error = "kernel older than 6.0 (ringtunnel's io_uring backend needs multishot recv and send_zc)";
    return nullptr;
  }
  std::unique_ptr<UringBackend> b(new UringBackend());
  // Best first: one issuer and task work deferred to our wait (fewer interrupts, batched
  // completions); then cooperative task work; then plain.
  // TASKRUN_FLAG makes the kernel flag pending task work in the SQ ring, so a non-blocking
  // turn with nothing to submit can skip io_uring_enter (see wait()).
  const unsigned attempts[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      0,
  };
  int rc = -EINVAL;
  for (unsigned flags : attempts) {
    io_uring_params params{};
    params.flags = flags | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
    params.cq_entries = queue_depth * 4;  // multishot operations can post bursts
    rc = io_uring_queue_init_params(queue_depth, &b->ring_, &params);
    if (rc == 0) {
      b->setup_flags_ = flags;
      break;
    }
    if (rc != -EINVAL) break;
  }
  if (rc != 0) {
    *error = std::string("io_uring_setup failed: ") + std::strerror(-rc) +
             (rc == -EPERM || rc == -ENOSYS
                  ? " (blocked by a seccomp profile or kernel.io_uring_disabled)"
                  : "");
    return nullptr;
  }
  b->ring_ready_ = true;
  if (!probe_has_all(b->ring_, {IORING_OP_MSG_RING, IORING_OP_SEND_ZC})) {
    *error = "io_uring lacks MSG_RING or SEND_ZC";
    return nullptr;
  }
  b->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (b->wake_fd_ < 0) {
    *error = std::string("eventfd: ") + std::strerror(errno);
    return nullptr;
  }
  b->arm_wake_poll();
  return b;
}

UringBackend::~UringBackend() {
  if (ring_ready_) io_uring_queue_exit(&ring_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

std::string UringBackend::describe() const {
  std::string s = "io_uring";
  if (setup_flags_ & IORING_SETUP_DEFER_TASKRUN) {
    s += " (single_issuer, defer_taskrun)";
  } else if (setup_flags_ & IORING_SETUP_COOP_TASKRUN) {
    s += " (coop_taskrun)";
  }
  return s;
}

io_uring_sqe* UringBackend::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (!sqe) {
    // The submission queue is full: hand what we have to the kernel and try again.
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

io_uring_sqe* UringBackend::prepare(Operation& op) {
  RT_DCHECK(!op.in_flight);
  op.in_flight = true;
  return next_sqe();
}

void UringBackend::submit_accept_multishot(Operation& op, int listen_fd) {
  io_uring_sqe* sqe = prepare(op);
  io_uring_prep_multishot_accept(sqe, listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  io_uring_sqe_set_data(sqe, &op);
}

void UringBackend::submit_connect(Operation& op, int fd, const sockaddr* addr, socklen_t len) {
  io_uring_sqe* sqe = prepare(op);
  io_uring_prep_connect(sqe, fd, addr, len);
  io_uring_sqe_set_data(sqe, &op);
}

void UringBackend::submit_recv_provided(Operation& op, int fd, BufferRing& ring, bool multishot) {
  io_uring_sqe* sqe = prepare(op);
  if (multishot) {
    io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
  } else {
    io_uring_prep_recv(sqe, fd, nullptr, ring.buffer_size(), 0);
  }
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = ring.group_id();
  io_uring_sqe_set_data(sqe, &op);
}

void UringBackend::submit_recv(Operation& op, int fd, std::span<std::byte> into) {
  io_uring_sqe* sqe = prepare(op);
  io_uring_prep_recv(sqe, fd, into.data(), into.size(), 0);
  io_uring_sqe_set_data(sqe, &op);
}

void UringBackend::submit_recvmsg(Operation& op, int fd, ::msghdr* message) {
  io_uring_sqe* sqe = prepare(op);
  io_uring_prep_recvmsg(sqe, fd, message, 0);
  io_uring_sqe_set_data(sqe, &op);
}

void UringBackend::submit_sendmsg(Operation& op, int fd, const ::msghdr* message) {
  io_uring_sqe* sqe = prepare(op);
  io_uring_prep_sendmsg(sqe, fd, message, MSG_NOSIGNAL);
  io_uring_sqe_set_data(sqe, &op);
}

void UringBackend::submit_send(Operation& op, int fd, std::span<const std::byte> data) {
  io_uring_sqe* sqe = prepare(op);
  io_uring_prep_send(sqe, fd, data.data(), data.size(), MSG_NOSIGNAL);
  io_uring_sqe_set_data(sqe, &op);
}

void UringBackend::submit_send_zc(Operation& op, int fd, std::span<const std::byte> data) {
  io_uring_sqe* sqe = prepare(op);
  io_uring_prep_send_zc(sqe, fd, data.data(), data.size(), MSG_NOSIGNAL, 0);
  io_uring_sqe_set_data(sqe, &op);
}

void UringBackend::submit_poll_readable(Operation& op, int fd) {
  io_uring_sqe* sqe = prepare(op);
  io_uring_prep_poll_add(sqe, fd, POLLIN);
  io_uring_sqe_set_data(sqe, &op);
}

void UringBackend::cancel(Operation& op) {
  if (!op.in_flight) return;
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_cancel(sqe, &op, 0);
  io_uring_sqe_set_data64(sqe, kIgnoreTag);
}

void UringBackend::arm_wake_poll() {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_poll_multishot(sqe, wake_fd_, POLLIN);
  io_uring_sqe_set_data64(sqe, kWakeTag);
}

void UringBackend::wake() noexcept {
  const uint64_t one = 1;
  // A full counter (EAGAIN) still leaves the eventfd readable, which is all a wake needs.
  [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
}

void UringBackend::ring_doorbell(Backend& target) {
  auto& peer = static_cast<UringBackend&>(target);
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_msg_ring(sqe, peer.ring_.ring_fd, 0, kDoorbellTag, 0);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(&peer) | kDoorbellSendBit);
}

unsigned UringBackend::wait(std::optional<std::chrono::nanoseconds> timeout) {
  if (timeout && timeout->count() == 0) {
    // Enter the kernel only if there is something to submit or completions wait as task work;
    // otherwise a busy loop turn costs no syscall.
    const unsigned kernel_flags = IO_URING_READ_ONCE(*ring_.sq.kflags);
    const bool must_enter = (setup_flags_ & IORING_SETUP_TASKRUN_FLAG) == 0 ||
                            (kernel_flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) != 0 ||
                            io_uring_sq_ready(&ring_) > 0;
    if (must_enter) io_uring_submit_and_get_events(&ring_);
  } else {
    __kernel_timespec ts{};
    if (timeout) {
      ts.tv_sec = timeout->count() / 1'000'000'000;
      ts.tv_nsec = timeout->count() % 1'000'000'000;
    }
    io_uring_cqe* cqe = nullptr;
    // -ETIME (timeout) and -EINTR (signal) are normal ways for the wait to end.
    const auto asleep = std::chrono::steady_clock::now();
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, timeout ? &ts : nullptr, nullptr);
    blocked_total_ += std::chrono::steady_clock::now() - asleep;
  }
  return reap();
}

unsigned UringBackend::reap() {
  struct Completion {
    uint64_t user_data;
    int result;
    uint32_t flags;
  };
  // Left uninitialised on purpose: filled before read, and this runs every loop turn.
  std::array<io_uring_cqe*, 256> cqes;
  std::array<Completion, 256> batch;
  unsigned total = 0;
  for (;;) {
    unsigned n = io_uring_peek_batch_cqe(&ring_, cqes.data(), cqes.size());
    if (n == 0) break;
    // Copy out and release the CQ slots before running callbacks, which may submit more work.
    for (unsigned i = 0; i < n; ++i) batch[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
    io_uring_cq_advance(&ring_, n);
    for (unsigned i = 0; i < n; ++i) dispatch(batch[i].user_data, batch[i].result, batch[i].flags);
    total += n;
    if (n < cqes.size()) break;
  }
  return total;
}

void UringBackend::dispatch(uint64_t user_data, int result, uint32_t cqe_flags) {
  if (user_data < kMaxTag) {
    if (user_data == kWakeTag) {
      uint64_t value = 0;
      [[maybe_unused]] auto n = read(wake_fd_, &value, sizeof value);
      if (!(cqe_flags & IORING_CQE_F_MORE)) arm_wake_poll();
    }
    return;  // doorbells only needed to end the wait; ignored bookkeeping
  }
  if (user_data & kDoorbellSendBit) {
    // Our MSG_RING failed (e.g. the target's completion queue was full): wake it the slow way.
    reinterpret_cast<UringBackend*>(user_data & ~kDoorbellSendBit)->wake();
    return;
  }
  auto* op = reinterpret_cast<Operation*>(user_data);
  const uint32_t flags = to_flags(cqe_flags);
  if (!(flags & kMore)) op->in_flight = false;
  op->on_complete(*op, result, flags, static_cast<uint16_t>(cqe_flags >> IORING_CQE_BUFFER_SHIFT));
}

std::unique_ptr<BufferRing> UringBackend::make_buffer_ring(uint16_t group_id, uint32_t count,
                                                           uint32_t size) {
  return std::make_unique<UringBufferRing>(ring_, group_id, count, size);
}

}  // namespace ringtunnel::runtime
