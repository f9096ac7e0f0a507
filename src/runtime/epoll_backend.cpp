// SPDX-License-Identifier: MIT
// EpollBackend: io_uring-style completions emulated with nonblocking syscalls and epoll readiness.
#include "runtime/epoll_backend.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <climits>
#include <system_error>
#include <utility>

#include "runtime/assert.hpp"

namespace ringtunnel::runtime {
namespace {

constexpr int kRecvFlags = MSG_DONTWAIT;
constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL;
// Which readiness bits are worth retrying each side for; EPOLLERR/HUP wake both so the
// syscall reports the error.
constexpr uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP;
constexpr uint32_t kWriteEvents = EPOLLOUT | EPOLLERR | EPOLLHUP;
constexpr uint32_t kRegisteredEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

bool would_block(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK; }

bool is_write_side(EpollOpKind kind) noexcept {
  return kind == EpollOpKind::connect || kind == EpollOpKind::send ||
         kind == EpollOpKind::send_zc || kind == EpollOpKind::sendmsg;
}

ParkedOp& side_of(FdSlot& slot, EpollOpKind kind) noexcept {
  return is_write_side(kind) ? slot.write : slot.read;
}

bool socket_drained(int fd) noexcept {
  std::byte probe{};
  return ::recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && would_block(errno);
}

/// epoll_wait's timeout in whole milliseconds, rounded up so a timer never fires early.
int timeout_ms(std::optional<std::chrono::nanoseconds> timeout) noexcept {
  if (!timeout) return -1;
  const auto ns = timeout->count();
  if (ns <= 0) return 0;
  const auto ms = ns / 1'000'000 + (ns % 1'000'000 != 0 ? 1 : 0);
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace

// ---- EpollBufferRing ------------------------------------------------------------------------

EpollBufferRing::EpollBufferRing(uint16_t group_id, uint32_t count, uint32_t size)
    : BufferRing(group_id, count, size) {
  free_.reserve(count);
  // Pushed in reverse so buffer 0 is handed out first (easier to read in traces).
  for (uint32_t id = count; id > 0; --id) free_.push_back(static_cast<uint16_t>(id - 1));
}

void EpollBufferRing::recycle(uint16_t buffer_id) noexcept {
  RT_DCHECK(free_.size() < count());
  free_.push_back(buffer_id);  // within the reserved capacity: never allocates
}

// ---- construction ---------------------------------------------------------------------------

std::unique_ptr<Backend> make_epoll_backend(std::string* error) {
  auto fail = [error](const char* what) -> std::unique_ptr<Backend> {
    const int err = errno;
    if (error != nullptr) *error = std::string(what) + ": " + std::generic_category().message(err);
    return nullptr;
  };
  net::UniqueFd epoll_fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd) return fail("epoll_create1");
  net::UniqueFd wake_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd) return fail("eventfd");
  // Level-triggered: wait() drains the counter, and a wake() it misses is reported again.
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd.get();
  if (::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, wake_fd.get(), &ev) < 0) {
    return fail("epoll_ctl(eventfd)");
  }
  return std::make_unique<EpollBackend>(std::move(epoll_fd), std::move(wake_fd));
}

EpollBackend::EpollBackend(net::UniqueFd epoll_fd, net::UniqueFd wake_fd)
    : epoll_fd_(std::move(epoll_fd)), wake_fd_(std::move(wake_fd)) {
  pending_.reserve(256);
  delivering_.reserve(256);
}

// Parked operations are dropped without completions: their owners are going away with us.
EpollBackend::~EpollBackend() = default;

std::string EpollBackend::describe() const { return "epoll"; }

// ---- submission -----------------------------------------------------------------------------

void EpollBackend::submit_accept_multishot(Operation& op, int listen_fd) {
  start(listen_fd, {.op = &op, .kind = EpollOpKind::accept, .multishot = true});
}

void EpollBackend::submit_connect(Operation& op, int fd, const sockaddr* addr, socklen_t len) {
  if (!begin(op, EpollOpKind::connect, fd)) return;
  if (::connect(fd, addr, len) == 0) {
    queue_final(op, EpollOpKind::connect, 0);
    return;
  }
  // A nonblocking connect that was interrupted goes on in the background, like EINPROGRESS.
  const int err = errno;
  if (err != EINPROGRESS && err != EINTR) {
    queue_final(op, EpollOpKind::connect, -err);
    return;
  }
  const ParkedOp parked{.op = &op, .kind = EpollOpKind::connect};
  if (attempt(fd, parked) == Attempt::blocked) park(fd, parked);
}

void EpollBackend::submit_recv_provided(Operation& op, int fd, BufferRing& ring, bool multishot) {
  RT_DCHECK(dynamic_cast<EpollBufferRing*>(&ring) != nullptr);
  start(fd, {.op = &op, .target = {.ring = static_cast<EpollBufferRing*>(&ring)},
             .kind = EpollOpKind::recv_provided, .multishot = multishot});
}

void EpollBackend::submit_recv(Operation& op, int fd, std::span<std::byte> into) {
  start(fd, {.op = &op, .target = {.in = into.data()}, .length = into.size(),
             .kind = EpollOpKind::recv});
}

void EpollBackend::submit_send(Operation& op, int fd, std::span<const std::byte> data) {
  start(fd, {.op = &op, .target = {.out = data.data()}, .length = data.size(),
             .kind = EpollOpKind::send});
}

void EpollBackend::submit_send_zc(Operation& op, int fd, std::span<const std::byte> data) {
  start(fd, {.op = &op, .target = {.out = data.data()}, .length = data.size(),
             .kind = EpollOpKind::send_zc});
}

void EpollBackend::submit_recvmsg(Operation& op, int fd, ::msghdr* message) {
  start(fd, {.op = &op, .target = {.message = message}, .kind = EpollOpKind::recvmsg});
}

void EpollBackend::submit_sendmsg(Operation& op, int fd, const ::msghdr* message) {
  // The parked copy only reads through the pointer (sendmsg takes a const msghdr*).
  start(fd, {.op = &op, .target = {.message = const_cast<::msghdr*>(message)},
             .kind = EpollOpKind::sendmsg});
}

void EpollBackend::submit_poll_readable(Operation& op, int fd) {
  start(fd, {.op = &op, .kind = EpollOpKind::poll_readable});
}

bool EpollBackend::begin(Operation& op, EpollOpKind kind, int fd) {
  RT_DCHECK(!op.in_flight && op.on_complete != nullptr);
  op.in_flight = true;
  // One operation per side per fd is what readiness can order; a second one is a caller bug
  // (or a parked operation left behind on a closed and reused fd number).
  FdSlot* slot = fds_.find(fd);
  const bool side_busy = slot != nullptr && side_of(*slot, kind).op != nullptr;
  RT_DCHECK(!side_busy);
  if (fd >= 0 && !side_busy) return true;
  queue_final(op, kind, fd < 0 ? -EBADF : -EBUSY);
  return false;
}

void EpollBackend::start(int fd, const ParkedOp& parked) {
  if (begin(*parked.op, parked.kind, fd) && attempt(fd, parked) == Attempt::blocked) {
    park(fd, parked);
  }
}

// ---- syscall attempts: queue completions, never call back ------------------------------------

EpollBackend::Attempt EpollBackend::attempt(int fd, const ParkedOp& parked) {
  switch (parked.kind) {
    case EpollOpKind::accept: return try_accept(fd, *parked.op);
    case EpollOpKind::recv_provided: return try_recv_provided(fd, parked);
    case EpollOpKind::poll_readable: return try_poll_readable(fd, *parked.op);
    case EpollOpKind::connect: return try_connect_done(fd, *parked.op);
    case EpollOpKind::recv:
    case EpollOpKind::send:
    case EpollOpKind::send_zc:
    case EpollOpKind::recvmsg:
    case EpollOpKind::sendmsg: return try_transfer(fd, parked);
  }
  RT_ASSERT(false);
  return Attempt::done;
}

EpollBackend::Attempt EpollBackend::try_accept(int fd, Operation& op) {
  for (;;) {
    const int conn = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn >= 0) {
      queue(op, conn, kMore);
      continue;
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (would_block(err)) return Attempt::blocked;
    queue_final(op, EpollOpKind::accept, -err);  // like io_uring: an error ends the multishot
    return Attempt::done;
  }
}

// recv into caller memory, send, send_zc, recvmsg and sendmsg: one syscall, any result ends the
// operation.
EpollBackend::Attempt EpollBackend::try_transfer(int fd, const ParkedOp& parked) {
  for (;;) {
    ssize_t n = 0;
    switch (parked.kind) {
      case EpollOpKind::recv: n = ::recv(fd, parked.target.in, parked.length, kRecvFlags); break;
      case EpollOpKind::recvmsg: n = ::recvmsg(fd, parked.target.message, kRecvFlags); break;
      case EpollOpKind::sendmsg: n = ::sendmsg(fd, parked.target.message, kSendFlags); break;
      default: n = ::send(fd, parked.target.out, parked.length, kSendFlags); break;
    }
    const int err = n < 0 ? errno : 0;
    if (err == EINTR) continue;
    if (would_block(err)) return Attempt::blocked;
    // The kernel caps one transfer at MAX_RW_COUNT (< INT_MAX), so the result fits an int.
    queue_final(*parked.op, parked.kind, n >= 0 ? static_cast<int>(n) : -err);
    return Attempt::done;
  }
}

EpollBackend::Attempt EpollBackend::try_recv_provided(int fd, const ParkedOp& parked) {
  EpollBufferRing& ring = *parked.target.ring;
  Operation& op = *parked.op;
  for (bool received = false;;) {
    if (ring.exhausted()) {
      // Like the kernel's msg_inq check: once a receive has drained the socket, an empty ring
      // does not end the multishot; it stays armed and fails only if bytes arrive meanwhile.
      if (received && socket_drained(fd)) return Attempt::blocked;
      queue_final(op, EpollOpKind::recv_provided, -ENOBUFS);  // the consumer counts it
      return Attempt::done;
    }
    // Receive into the next free buffer but take it only once bytes landed in it: EOF, errors
    // and EAGAIN leave it in the ring, so no path has to give an unused buffer back.
    const uint16_t id = ring.next();
    const ssize_t n = ::recv(fd, ring.data(id), ring.buffer_size(), kRecvFlags);
    if (n > 0) {
      ring.take();
      received = true;
      const uint32_t more = parked.multishot ? uint32_t{kMore} : 0u;
      queue(op, static_cast<int>(n), kBufferSelected | more, id);
      if (more == 0) return Attempt::done;
      continue;
    }
    const int err = n < 0 ? errno : 0;
    if (err == EINTR) continue;
    if (would_block(err)) return Attempt::blocked;
    queue_final(op, EpollOpKind::recv_provided, -err);  // 0 at EOF
    return Attempt::done;
  }
}

EpollBackend::Attempt EpollBackend::try_poll_readable(int fd, Operation& op) {
  // POLLRDHUP too: io_uring's poll reports it at EOF (POLLIN|POLLRDHUP), so the masks agree.
  pollfd pfd{.fd = fd, .events = POLLIN | POLLRDHUP, .revents = 0};
  int rc = 0;
  while ((rc = ::poll(&pfd, 1, 0)) < 0 && errno == EINTR) {
  }
  if (rc == 0) return Attempt::blocked;
  int result = rc < 0 ? -errno : pfd.revents;
  if (rc > 0 && (pfd.revents & POLLNVAL) != 0) result = -EBADF;
  queue_final(op, EpollOpKind::poll_readable, result);
  return Attempt::done;
}

// connect() already returned EINPROGRESS: the outcome is known once the socket is writable
// (or in error). Polling first matters: SO_ERROR reads 0 while the handshake is still going.
EpollBackend::Attempt EpollBackend::try_connect_done(int fd, Operation& op) {
  pollfd pfd{.fd = fd, .events = POLLOUT, .revents = 0};
  int rc = 0;
  while ((rc = ::poll(&pfd, 1, 0)) < 0 && errno == EINTR) {
  }
  if (rc == 0) return Attempt::blocked;
  int err = rc < 0 ? errno : 0;
  if (rc > 0 && (pfd.revents & POLLNVAL) != 0) err = EBADF;
  if (err == 0) {
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  }
  queue_final(op, EpollOpKind::connect, -err);
  return Attempt::done;
}

// ---- parking and cancellation ---------------------------------------------------------------

void EpollBackend::park(int fd, const ParkedOp& parked) {
  ParkedOp& side = side_of(fds_.at(fd), parked.kind);
  RT_DCHECK(side.op == nullptr);  // one operation per side: begin() refused a second one
  side = parked;
  parked_.insert(parked.op, fd);
  // Always ADD, never trust a remembered "registered" flag: a closed fd leaves the epoll set
  // without telling us, and its number may come back as a new socket that needs registering.
  // EEXIST means this very file is still in the set, and ET will report its next edge.
  epoll_event ev{};
  ev.events = kRegisteredEvents;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) == 0 || errno == EEXIST) return;
  const int err = errno;
  unpark(side);
  queue_final(*parked.op, parked.kind, -err);
}

void EpollBackend::unpark(ParkedOp& side) noexcept {
  parked_.erase(side.op);
  side = ParkedOp{};
}

void EpollBackend::cancel(Operation& op) {
  if (!op.in_flight) return;
  const int fd = parked_.find(&op);
  if (fd < 0) return;  // its final completion is already queued: it won the race
  FdSlot& slot = fds_.at(fd);
  ParkedOp& side = slot.read.op == &op ? slot.read : slot.write;
#ifndef NDEBUG
  if (side.op != &op) {
    std::fprintf(stderr, "epoll cancel: op %p indexed on fd %d, but that slot holds %p / %p\n",
                 static_cast<void*>(&op), fd, static_cast<void*>(slot.read.op),
                 static_cast<void*>(slot.write.op));
  }
#endif
  RT_DCHECK(side.op == &op);
  const EpollOpKind kind = side.kind;
  unpark(side);
  queue_final(op, kind, -ECANCELED);
}

// ---- the loop -------------------------------------------------------------------------------

unsigned EpollBackend::wait(std::optional<std::chrono::nanoseconds> timeout) {
  unsigned delivered = deliver_pending();
  // Completions queued by those callbacks must not wait behind a blocking epoll_wait.
  const int ms = delivered > 0 || !pending_.empty() ? 0 : timeout_ms(timeout);
  const auto asleep = ms != 0 ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  const int n = ::epoll_wait(epoll_fd_.get(), events_.data(), static_cast<int>(events_.size()), ms);
  if (ms != 0) blocked_total_ += std::chrono::steady_clock::now() - asleep;
  // n < 0 is EINTR (a signal) in practice: nothing to process, the reactor calls again.
  for (int i = 0; i < n; ++i) {
    const epoll_event& ev = events_[static_cast<std::size_t>(i)];
    if (ev.data.fd == wake_fd_.get()) {
      drain_wake();
    } else {
      handle_event(ev.data.fd, ev.events);
    }
  }
  delivered += deliver_pending();
  return delivered;
}

void EpollBackend::handle_event(int fd, uint32_t events) {
  FdSlot* slot = fds_.find(fd);
  if (slot == nullptr || slot->empty()) {
    // Nobody waits here any more (the operation finished, or the fd moved to another reactor):
    // stop the events until something parks again, whose ADD registers the fd afresh.
    static_cast<void>(::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr));
    return;
  }
  // Attempts only queue completions, so the slot reference stays valid across them.
  if (slot->read.op != nullptr && (events & kReadEvents) != 0 &&
      attempt(fd, slot->read) == Attempt::done) {
    unpark(slot->read);
  }
  if (slot->write.op != nullptr && (events & kWriteEvents) != 0 &&
      attempt(fd, slot->write) == Attempt::done) {
    unpark(slot->write);
  }
}

void EpollBackend::drain_wake() noexcept {
  uint64_t count = 0;
  while (::read(wake_fd_.get(), &count, sizeof count) == static_cast<ssize_t>(sizeof count)) {
  }
}

void EpollBackend::queue(Operation& op, int result, uint32_t flags, uint16_t buffer_id) {
  pending_.push_back(Completion{&op, result, flags, buffer_id});
}

void EpollBackend::queue_final(Operation& op, EpollOpKind kind, int result) {
#ifndef NDEBUG
  // An operation ends once: a second final completion would resume its owner twice.
  for (const Completion& c : pending_) RT_DCHECK(c.op != &op || (c.flags & kMore) != 0);
  RT_DCHECK(op.in_flight);
#endif
  if (kind == EpollOpKind::send_zc) {
    // io_uring posts the notification after every issued send_zc, even a failed or cancelled
    // one, so callers that wait for it work unchanged.
    queue(op, result, kMore);
    queue(op, 0, kNotification);
  } else {
    queue(op, result, 0);
  }
}

unsigned EpollBackend::deliver_pending() {
  if (pending_.empty()) return 0;
  RT_DCHECK(delivering_.empty());  // wait() is not re-entrant
  delivering_.swap(pending_);
  // Callbacks may submit (into pending_, delivered later) or cancel re-entrantly; nothing here
  // holds a reference into the fd table across a callback.
  for (const Completion& c : delivering_) {
    if ((c.flags & kMore) == 0) c.op->in_flight = false;  // first: the callback may resubmit
    c.op->on_complete(*c.op, c.result, c.flags, c.buffer_id);
  }
  const auto count = static_cast<unsigned>(delivering_.size());
  delivering_.clear();
  return count;
}

// ---- cross-thread and buffers ---------------------------------------------------------------

void EpollBackend::ring_doorbell(Backend& target) {
  RT_DCHECK(target.kind() == BackendKind::epoll);
  target.wake();
}

void EpollBackend::wake() noexcept {
  const uint64_t one = 1;
  // EAGAIN would mean the counter is near overflow, i.e. the target is woken already.
  const ssize_t rc = ::write(wake_fd_.get(), &one, sizeof one);
  static_cast<void>(rc);
}

std::unique_ptr<BufferRing> EpollBackend::make_buffer_ring(uint16_t group_id, uint32_t count,
                                                           uint32_t size) {
  return std::make_unique<EpollBufferRing>(group_id, count, size);
}

}  // namespace ringtunnel::runtime
