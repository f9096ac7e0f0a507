// SPDX-License-Identifier: MIT
// Engine: N reactor threads, one per core, pinned, wired to each other with SPSC mailboxes.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "runtime/backend.hpp"
#include "runtime/cancellation.hpp"
#include "runtime/reactor.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::runtime {

struct EngineOptions {
  unsigned threads = 0;  ///< 0: one per online CPU
  BackendChoice backend = BackendChoice::automatic;
  bool pin_threads = true;
  unsigned queue_depth = 1024;
  std::size_t mailbox_capacity = 1024;  ///< per ordered pair of reactors (power of two)
  ReactorOptions reactor;
  bool handle_signals = true;  ///< block SIGINT/SIGTERM/SIGHUP and deliver them as events
};

/// The thread-per-core runtime. start() launches the reactors and returns; each reactor runs
/// `on_start` on its own thread and then its loop until stop(). Shared-nothing: a reactor's state
/// is touched only by its thread; reactors talk through Reactor::post().
class Engine {
 public:
  using StartFn = std::function<void(Reactor&)>;
  /// Runs on every reactor's thread when a signal arrives (SIGINT, SIGTERM, SIGHUP).
  using SignalFn = std::function<void(Reactor&, int signal_number)>;

  explicit Engine(EngineOptions options);
  ~Engine();  ///< stops and joins
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Chooses the backend (see backend_reason()), starts the threads and waits until every
  /// reactor is set up. Fails (and starts nothing) if any reactor cannot be created.
  Result<void> start(StartFn on_start);
  /// Asks every reactor to leave its loop. Safe from any thread and from signal callbacks, also
  /// before or while start() runs (the reactors then stop as soon as they are up).
  void stop() noexcept;
  /// Waits for the reactor threads to finish.
  void join();

  /// Set before start(). Without one, SIGINT/SIGTERM stop the engine.
  void set_signal_handler(SignalFn handler) { signal_handler_ = std::move(handler); }

  /// The number of reactors, known from construction (EngineOptions::threads, 0 = online CPUs),
  /// so per-reactor state can be sized before start().
  unsigned size() const noexcept { return options_.threads; }
  Reactor& reactor(unsigned i) noexcept { return *reactors_[i]; }
  BackendKind backend_kind() const noexcept { return kind_; }
  /// One human sentence: which backend runs and why.
  const std::string& backend_reason() const noexcept { return reason_; }

 private:
  void thread_main(unsigned id, StartFn& on_start);
  void watch_signals(Reactor& reactor);
  static void deliver_signal(Reactor& target, CoreMessage& message);

  EngineOptions options_;
  BackendKind kind_ = BackendKind::io_uring;
  std::string reason_;
  std::vector<std::unique_ptr<Reactor>> reactors_;
  std::vector<std::unique_ptr<SpscQueue<CoreMessage>>> mailboxes_;  // [from * n + to]
  std::vector<std::thread> threads_;
  SignalFn signal_handler_;
  int signal_fd_ = -1;
  Cancellation signal_watch_cancel_;  // reactor 0 only
  bool signal_watch_running_ = false;  // reactor 0 only
  std::atomic<bool> started_{false};   // reactors_ is complete and safe to read from any thread
  std::atomic<bool> stop_requested_{false};
};

/// Online CPUs, at least 1.
unsigned online_cpus() noexcept;

}  // namespace ringtunnel::runtime
