// SPDX-License-Identifier: MIT
// Reactor: the loop turn: ready coroutines, mailboxes, one backend wait, due timers.
#include "runtime/reactor.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdio>

#include "runtime/task.hpp"

namespace ringtunnel::runtime {

namespace {
thread_local Reactor* t_current = nullptr;
thread_local unsigned t_transfer_depth = 0;
// Transfers allowed before bouncing through the ready queue: enough to keep the cost negligible,
// few enough that even unoptimised frames stay far from the thread's stack limit.
constexpr unsigned kMaxInlineTransfers = 64;
// Ready coroutines resumed per turn before the loop checks I/O again (fairness).
constexpr std::size_t kMaxResumesPerTurn = 1024;
// While polling before sleep, the CPU is handed to other runnable threads this often.
constexpr auto kYieldEvery = std::chrono::microseconds(5);

void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

namespace detail {
std::coroutine_handle<> transfer_to(std::coroutine_handle<> next) noexcept {
  if (++t_transfer_depth < kMaxInlineTransfers || t_current == nullptr) return next;
  t_current->schedule(next);
  return std::noop_coroutine();
}

void reset_transfer_depth() noexcept { t_transfer_depth = 0; }

void Detached::promise_type::unhandled_exception() noexcept {
  try {
    throw;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringtunnel: exception escaped a spawned task: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "ringtunnel: unknown exception escaped a spawned task\n");
  }
  std::abort();
}

Detached run_detached(Task<void> task) { co_await std::move(task); }
}  // namespace detail

Reactor::Reactor(unsigned id, std::unique_ptr<Backend> backend, const ReactorOptions& options)
    : id_(id), backend_(std::move(backend)), idle_poll_(options.idle_poll) {
  buffers_ = backend_->make_buffer_ring(0, options.buffer_count, options.buffer_size);
  buffers_->set_refill_hook(&Reactor::on_buffers_refilled, this);
}

Reactor::~Reactor() {
  if (t_current == this) t_current = nullptr;
}

Reactor* Reactor::current() noexcept { return t_current; }

void Reactor::resume(std::coroutine_handle<> handle) {
  detail::reset_transfer_depth();
  ++stats_.resumed;
  handle.resume();
}

void Reactor::run() {
  while (!stop_requested()) run_once(std::nullopt);
}

void Reactor::run_once(std::optional<std::chrono::nanoseconds> max_wait) {
  t_current = this;
  const bool measuring = idle_poll_.count() != 0;
  const auto turn_start = measuring ? Clock::now() : Clock::time_point{};
  const auto blocked_before = backend_->blocked_total();
  run_ready();
  drain_inboxes();
  drain_foreign_inbox();
  flush_outboxes();
  auto budget = wait_budget();
  if (max_wait && (!budget || *budget > *max_wait)) budget = max_wait;
  std::chrono::nanoseconds polled{0};
  std::size_t completed = mostly_idle() ? poll_before_sleep(budget, polled) : 0;
  if (completed == 0) completed = backend_->wait(budget);
  stats_.completions += completed;
  if (!timers_.empty()) timers_.fire_due(Clock::now());
  ++stats_.loop_iterations;
  if (measuring) {
    const auto idle = polled + (backend_->blocked_total() - blocked_before);
    note_turn(Clock::now() - turn_start, idle);
  }
}

// Moving averages (1/8 per turn) of how long turns took and how much of that was idle (polling,
// or blocked in the kernel). Turns are short when busy and long when idle, so the ratio of the
// two averages follows the share of time spent idle.
void Reactor::note_turn(std::chrono::nanoseconds turn, std::chrono::nanoseconds idle) noexcept {
  turn_avg_ += (turn - turn_avg_) / 8;
  idle_avg_ += (idle - idle_avg_) / 8;
}

// Polling pays off when the reactor waits for sparse events (request/response traffic): the
// CPU would idle anyway and the reply is caught without a wakeup. When it moves bulk data it
// is busy most of the time, the next completion is a sure thing, and spinning would only take
// CPU from the processes producing and consuming that data: then it sleeps at once.
bool Reactor::mostly_idle() const noexcept {
  if (idle_poll_.count() == 0) return false;
  return idle_avg_ * 4 >= turn_avg_ * 3;  // at least 75% idle
}

// A wakeup from sleep costs several microseconds (more in a VM, where an idle CPU halts); on a
// busy tunnel the next completion usually comes sooner than that, so the loop first polls for
// up to idle_poll_. The zero-timeout waits make no syscall while the kernel has flagged nothing
// (io_uring), and sched_yield() hands the CPU to anything else runnable, so polling steals
// little from the processes this reactor serves. `budget` shrinks by the time spent.
std::size_t Reactor::poll_before_sleep(std::optional<std::chrono::nanoseconds>& budget,
                                       std::chrono::nanoseconds& polled) {
  if (idle_poll_.count() == 0 || (budget && budget->count() == 0)) return 0;
  const auto start = Clock::now();
  struct Account {  // however the poll ends, its time is counted as idle
    std::chrono::nanoseconds& polled;
    Clock::time_point start;
    ~Account() { polled = Clock::now() - start; }
  } account{polled, start};
  const auto limit = budget ? std::min(*budget, idle_poll_) : idle_poll_;
  auto now = start;
  auto last_yield = start;
  do {
    if (const std::size_t n = backend_->wait(std::chrono::nanoseconds(0)); n > 0) return n;
    // A doorbell or a wake() may have been consumed by that wait without a completion: the
    // messages it announced are the next turn's work, so the loop must not sleep now.
    if (messages_waiting() || stop_requested()) {
      budget = std::chrono::nanoseconds(0);
      return 0;
    }
    // Yield only every few microseconds: each yield is a syscall, and checking for work
    // costs no syscall (io_uring) while the kernel has flagged nothing.
    now = Clock::now();
    if (now - last_yield >= kYieldEvery) {
      ::sched_yield();
      last_yield = now;
    } else {
      spin_pause();
    }
  } while (now - start < limit);
  if (budget) budget = std::max<std::chrono::nanoseconds>(*budget - (now - start), {});
  ++stats_.idle_polls_expired;
  return 0;
}

void Reactor::drain(unsigned max_turns) {
  // Each turn waits up to 1 ms for completions; quiet for a whole turn means nothing is left.
  draining_ = true;
  for (unsigned turn = 0; turn < max_turns; ++turn) {
    const auto before = stats_.completions;
    run_once(std::chrono::milliseconds(1));
    if (stats_.completions == before && turn > 0 && ready_.empty()) break;
  }
  draining_ = false;
}

void Reactor::request_stop() noexcept {
  stop_.store(true, std::memory_order_relaxed);
  backend_->wake();
}

void Reactor::run_ready() {
  // Only what was ready when the turn began: coroutines scheduled meanwhile wait one turn, so
  // a coroutine that keeps rescheduling itself cannot starve I/O.
  std::size_t n = std::min(ready_.size(), kMaxResumesPerTurn);
  while (n-- > 0) {
    auto handle = ready_.front();
    ready_.pop_front();
    resume(handle);
  }
}

bool Reactor::messages_waiting() const noexcept {
  if (foreign_pending_.load(std::memory_order_relaxed)) return true;
  for (const auto& p : peers_) {
    if (p && !p->inbox->empty_hint()) return true;
  }
  return false;
}

std::optional<std::chrono::nanoseconds> Reactor::wait_budget() const {
  if (!ready_.empty() || (stop_requested() && !draining_)) return std::chrono::nanoseconds(0);
  for (const auto& p : peers_) {
    if (p && !p->overflow.empty()) return std::chrono::nanoseconds(0);
  }
  if (timers_.empty()) return std::nullopt;
  auto left = timers_.next_deadline() - Clock::now();
  return std::max<std::chrono::nanoseconds>(left, std::chrono::nanoseconds(0));
}

void Reactor::wait_for_buffers(BufferWaiter& waiter) noexcept {
  if (waiter.queued) return;
  waiter.queued = true;
  waiter.next = nullptr;
  if (buffer_waiters_tail_) {
    buffer_waiters_tail_->next = &waiter;
  } else {
    buffer_waiters_ = &waiter;
  }
  buffer_waiters_tail_ = &waiter;
}

void Reactor::cancel_buffer_wait(BufferWaiter& waiter) noexcept {
  if (!waiter.queued) return;
  BufferWaiter* prev = nullptr;
  for (BufferWaiter* w = buffer_waiters_; w; prev = w, w = w->next) {
    if (w != &waiter) continue;
    (prev ? prev->next : buffer_waiters_) = w->next;
    if (buffer_waiters_tail_ == w) buffer_waiters_tail_ = prev;
    break;
  }
  waiter.queued = false;
  waiter.next = nullptr;
}

void Reactor::on_buffers_refilled(void* self) {
  // Wake every waiter: each re-arms its receive; those that find the ring empty again re-queue.
  auto* reactor = static_cast<Reactor*>(self);
  BufferWaiter* list = std::exchange(reactor->buffer_waiters_, nullptr);
  reactor->buffer_waiters_tail_ = nullptr;
  while (list) {
    BufferWaiter* w = std::exchange(list, list->next);
    w->queued = false;
    w->next = nullptr;
    w->on_refill(*w);
  }
}

void Reactor::connect_peer(unsigned peer_id, Reactor& peer, SpscQueue<CoreMessage>& to_peer,
                           SpscQueue<CoreMessage>& from_peer) {
  if (peers_.size() <= peer_id) peers_.resize(peer_id + 1);
  peers_[peer_id] = std::make_unique<Peer>();
  peers_[peer_id]->reactor = &peer;
  peers_[peer_id]->outbox = &to_peer;
  peers_[peer_id]->inbox = &from_peer;
}

void Reactor::post(unsigned target, CoreMessage message) {
  RT_ASSERT(target < peers_.size() && peers_[target] != nullptr);
  Peer& peer = *peers_[target];
  ++stats_.messages_sent;
  if (!peer.overflow.empty() || !peer.outbox->try_push(message)) {
    peer.overflow.push_back(std::move(message));
  }
  peer.doorbell_pending = true;
}

void Reactor::drain_inboxes() {
  for (auto& p : peers_) {
    if (!p) continue;
    while (auto message = p->inbox->try_pop()) {
      ++stats_.messages_received;
      message->handler(*this, *message);
    }
  }
}

void Reactor::post_from_any_thread(CoreMessage message) {
  {
    std::lock_guard lock(foreign_mutex_);
    foreign_inbox_.push_back(std::move(message));
    foreign_pending_.store(true, std::memory_order_relaxed);
  }
  // No lost wake-up, so wait_budget() needs no inbox term: this wake() comes after the push and
  // the flag. If the reactor checked the flag just before we set it, the wake is still pending
  // when it reaches its wait (the eventfd stays readable: epoll is level-triggered, io_uring's
  // poll posts a completion), so that wait returns at once and the next turn sees the flag. The
  // reactor consumes a wake only by reading the eventfd, and the kernel's eventfd lock orders our
  // flag store (before the write) ahead of the reactor's next flag load (after the read).
  backend_->wake();
}

void Reactor::drain_foreign_inbox() {
  if (!foreign_pending_.load(std::memory_order_relaxed)) return;
  {
    // Flag and list change together under the lock: a message pushed after the swap sets the
    // flag again and is run next turn.
    std::lock_guard lock(foreign_mutex_);
    foreign_pending_.store(false, std::memory_order_relaxed);
    foreign_running_.swap(foreign_inbox_);
  }
  // Run outside the lock, so handlers may post here again (those wait for the next turn).
  for (CoreMessage& message : foreign_running_) {
    ++stats_.messages_received;
    message.handler(*this, message);
  }
  foreign_running_.clear();  // what the handlers left (fds, bytes) is released here
}

void Reactor::flush_outboxes() {
  for (auto& p : peers_) {
    if (!p) continue;
    Peer& peer = *p;
    while (!peer.overflow.empty() && peer.outbox->try_push(peer.overflow.front())) {
      peer.overflow.pop_front();
      peer.doorbell_pending = true;
    }
    if (peer.doorbell_pending) {
      peer.doorbell_pending = false;
      ++stats_.doorbells;
      backend_->ring_doorbell(peer.reactor->backend());
    }
  }
}

}  // namespace ringtunnel::runtime
