// SPDX-License-Identifier: MIT
// Reactor: one thread's event loop: its backend, buffers, timers, ready coroutines and mailboxes.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "runtime/backend.hpp"
#include "runtime/buffer_ring.hpp"
#include "runtime/core_message.hpp"
#include "runtime/spsc_queue.hpp"
#include "runtime/timer_heap.hpp"

namespace ringtunnel::runtime {

/// Per-reactor counters: plain integers written only by the reactor's thread, read when scraped.
struct ReactorStats {
  uint64_t loop_iterations = 0;
  uint64_t completions = 0;
  uint64_t resumed = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t doorbells = 0;
  uint64_t idle_polls_expired = 0;  ///< polls that ended without an event (the loop then slept)
};

struct ReactorOptions {
  uint32_t buffer_count = 256;       ///< provided receive buffers per reactor (power of two)
  uint32_t buffer_size = 32 * 1024;  ///< bytes per provided buffer
  /// Before the loop sleeps, it keeps polling for this long (yielding the CPU to anything else
  /// runnable), so an event that comes soon is caught without a wakeup; only while the reactor
  /// is mostly idle (request/response traffic), never while it moves bulk data. 0: never.
  std::chrono::microseconds idle_poll{0};
};

/// Something waiting for provided buffers to come back after the ring ran dry.
struct BufferWaiter {
  using WakeFn = void (*)(BufferWaiter& waiter);
  WakeFn on_refill = nullptr;
  void* context = nullptr;  ///< for on_refill: usually the owner
  BufferWaiter* next = nullptr;
  bool queued = false;
};

/// One event loop, owned by and run on one thread. Everything here is single-threaded except
/// request_stop(), post_from_any_thread() and the mailboxes' far ends. Coroutines started on a
/// reactor stay on it.
class Reactor {
 public:
  Reactor(unsigned id, std::unique_ptr<Backend> backend, const ReactorOptions& options);
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  /// The reactor running on this thread, or nullptr.
  static Reactor* current() noexcept;

  unsigned id() const noexcept { return id_; }
  Backend& backend() noexcept { return *backend_; }
  BufferRing& buffers() noexcept { return *buffers_; }
  const ReactorStats& stats() const noexcept { return stats_; }
  TimerHeap& timers() noexcept { return timers_; }

  /// Queues a coroutine to be resumed on a later turn of the loop.
  void schedule(std::coroutine_handle<> handle) { ready_.push_back(handle); }
  /// Resumes `handle` now, from the loop's stack (resets the transfer depth first).
  void resume(std::coroutine_handle<> handle);

  /// Runs the loop on the calling thread until request_stop(). Makes this reactor current.
  void run();
  /// Runs one turn of the loop, blocking at most `max_wait` (for tests and embedders).
  void run_once(std::optional<std::chrono::nanoseconds> max_wait);
  /// After the loop has ended: runs turns (at most `max_turns`, 1 ms each) until one delivers no
  /// completion, so cancels issued while stopping land and the state they free is freed.
  void drain(unsigned max_turns = 100);
  /// Ends run() after the current turn. Safe from any thread.
  void request_stop() noexcept;
  bool stop_requested() const noexcept { return stop_.load(std::memory_order_relaxed); }

  /// Registers `waiter` to be woken when a buffer returns to the (empty) ring.
  void wait_for_buffers(BufferWaiter& waiter) noexcept;
  void cancel_buffer_wait(BufferWaiter& waiter) noexcept;

  /// Cross-core: sends `message` to reactor `target` (not this one). Never fails or drops: a full
  /// queue spills into a local overflow list retried every turn. The target is woken once per turn.
  void post(unsigned target, CoreMessage message);

  /// Hands `message` to this reactor from any thread, including threads that are not reactors
  /// (e.g. resolver workers). Its handler runs on this reactor's thread in a later loop turn, as
  /// `handler(*this, message)`, like a message from post(); messages from one thread run in the
  /// order that thread posted them. Never fails or drops (an unbounded, mutex-protected list).
  /// Thread-safe. The caller must know this reactor is alive for the duration of the call;
  /// messages still queued when the reactor is destroyed are destroyed unrun (fds closed).
  void post_from_any_thread(CoreMessage message);

  /// Wiring done by Engine before the threads start: this reactor's mailbox to and from each peer.
  void connect_peer(unsigned peer_id, Reactor& peer, SpscQueue<CoreMessage>& to_peer,
                    SpscQueue<CoreMessage>& from_peer);

 private:
  struct Peer {
    Reactor* reactor = nullptr;
    SpscQueue<CoreMessage>* outbox = nullptr;
    SpscQueue<CoreMessage>* inbox = nullptr;
    std::deque<CoreMessage> overflow;
    bool doorbell_pending = false;
  };

  void run_ready();
  std::size_t poll_before_sleep(std::optional<std::chrono::nanoseconds>& budget,
                                std::chrono::nanoseconds& polled);
  void note_turn(std::chrono::nanoseconds turn, std::chrono::nanoseconds idle) noexcept;
  bool mostly_idle() const noexcept;
  bool messages_waiting() const noexcept;
  void drain_inboxes();
  void drain_foreign_inbox();
  void flush_outboxes();
  std::optional<std::chrono::nanoseconds> wait_budget() const;
  static void on_buffers_refilled(void* self);

  unsigned id_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<BufferRing> buffers_;
  std::chrono::nanoseconds idle_poll_;
  std::chrono::nanoseconds turn_avg_{0};  // load estimate (only with idle_poll_): see note_turn
  std::chrono::nanoseconds idle_avg_{0};
  TimerHeap timers_;
  std::deque<std::coroutine_handle<>> ready_;
  std::vector<std::unique_ptr<Peer>> peers_;  // by reactor id; this reactor's own slot is null
  BufferWaiter* buffer_waiters_ = nullptr;
  BufferWaiter* buffer_waiters_tail_ = nullptr;
  std::atomic<bool> stop_{false};
  bool draining_ = false;  // drain(): turns really wait, although stop was requested
  ReactorStats stats_;

  // The foreign-thread inbox: any thread appends under the mutex and sets the flag; the reactor
  // checks the flag once per turn and swaps the list out, so an idle turn takes no lock.
  std::mutex foreign_mutex_;
  std::vector<CoreMessage> foreign_inbox_;  // guarded by foreign_mutex_
  std::atomic<bool> foreign_pending_{false};
  std::vector<CoreMessage> foreign_running_;  // reactor thread only: the batch being run
};

}  // namespace ringtunnel::runtime
