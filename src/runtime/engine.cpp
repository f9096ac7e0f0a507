// SPDX-License-Identifier: MIT
// Engine: thread start-up in two phases (build every reactor, then wire and run), signals.
#include "runtime/engine.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <latch>

#include "runtime/io.hpp"
#include "runtime/task.hpp"

namespace ringtunnel::runtime {

namespace {
sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

void pin_to_cpu(unsigned index) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  // Pin to the index-th CPU we are allowed on (containers may restrict the set).
  unsigned seen = 0;
  const unsigned total = static_cast<unsigned>(CPU_COUNT(&allowed));
  for (int cpu = 0; cpu < CPU_SETSIZE && total > 0; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (seen++ == index % total) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      return;
    }
  }
}

// Runs `start_fn` on a reactor and keeps a start-up error for the launching thread.
struct StartupState {
  std::latch built;
  std::latch wired{1};
  std::vector<std::string> errors;
  bool abort = false;  // written before `wired` opens, read after
  explicit StartupState(unsigned n) : built(n), errors(n) {}
};
}  // namespace

unsigned online_cpus() noexcept {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1u;
}

Engine::Engine(EngineOptions options) : options_(options) {
  if (options_.threads == 0) options_.threads = online_cpus();
}

Engine::~Engine() {
  stop();
  join();
  if (signal_fd_ >= 0) close(signal_fd_);
}

Result<void> Engine::start(StartFn on_start) {
  // Decide the backend once, so every reactor runs the same kind (doorbells need that). The
  // probe runs on a thread of its own: a ring made and torn down on the caller's thread leaves
  // io_uring task work aimed at that thread, which later breaks one of its blocking system
  // calls with EINTR (measured: 1 in 20 starts, in an embedder's read()).
  std::string why;
  bool probed = false;
  std::thread([&] {
    auto probe = make_backend(options_.backend, 8, &why);
    if (probe) {
      kind_ = probe->kind();
      probed = true;
    }
  }).join();
  reason_ = why;
  if (!probed) return errno_code(ENOSYS);
  options_.backend = kind_ == BackendKind::io_uring ? BackendChoice::io_uring : BackendChoice::epoll;

  if (options_.handle_signals) {
    sigset_t set = handled_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by the reactor threads
    std::signal(SIGPIPE, SIG_IGN);
    signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) return errno_code(errno);
  }

  const unsigned n = options_.threads;
  reactors_.resize(n);
  auto startup = std::make_shared<StartupState>(n);
  for (unsigned i = 0; i < n; ++i) {
    threads_.emplace_back([this, i, startup, on_start]() mutable {
      std::string error;
      if (options_.pin_threads) pin_to_cpu(i);
      auto backend = make_backend(options_.backend, options_.queue_depth, &error);
      if (backend) {
        try {
          reactors_[i] = std::make_unique<Reactor>(i, std::move(backend), options_.reactor);
        } catch (const std::exception& e) {  // e.g. the buffer ring cannot be mapped or registered
          startup->errors[i] = e.what();
        }
      } else {
        startup->errors[i] = error;
      }
      startup->built.count_down();
      startup->wired.wait();
      if (startup->abort) return;
      thread_main(i, on_start);
    });
  }
  startup->built.wait();
  bool ok = true;
  for (unsigned i = 0; i < n; ++i) {
    if (!reactors_[i]) {
      reason_ = "reactor " + std::to_string(i) + ": " + startup->errors[i];
      ok = false;
    }
  }
  if (ok) {
    mailboxes_.resize(static_cast<std::size_t>(n) * n);
    for (unsigned from = 0; from < n; ++from) {
      for (unsigned to = 0; to < n; ++to) {
        if (from == to) continue;
        mailboxes_[from * n + to] =
            std::make_unique<SpscQueue<CoreMessage>>(options_.mailbox_capacity);
      }
    }
    for (unsigned a = 0; a < n; ++a) {
      for (unsigned b = 0; b < n; ++b) {
        if (a == b) continue;
        reactors_[a]->connect_peer(b, *reactors_[b], *mailboxes_[a * n + b], *mailboxes_[b * n + a]);
      }
    }
  }
  startup->abort = !ok;
  if (ok) started_.store(true, std::memory_order_release);
  startup->wired.count_down();
  if (!ok) {
    join();
    return errno_code(ENOSYS);
  }
  if (stop_requested_.load()) stop();
  return {};
}

void Engine::thread_main(unsigned id, StartFn& on_start) {
  Reactor& reactor = *reactors_[id];
  reactor.run_once(std::chrono::nanoseconds(0));  // makes the reactor current on this thread
  if (id == 0 && signal_fd_ >= 0) watch_signals(reactor);
  if (on_start) on_start(reactor);
  reactor.run();
  // Reactor 0's own watcher, cancelled on its own thread: from any other reactor's thread the
  // cancel would reach into reactor 0's backend concurrently with it.
  if (id == 0 && signal_watch_running_) signal_watch_cancel_.cancel();
  reactor.drain();
}

void Engine::stop() noexcept {
  stop_requested_.store(true);
  if (!started_.load(std::memory_order_acquire)) return;  // start() stops them once they are up
  for (auto& r : reactors_) r->request_stop();
}

void Engine::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void Engine::deliver_signal(Reactor& target, CoreMessage& message) {
  auto* engine = static_cast<Engine*>(message.context);
  const int signo = static_cast<int>(message.arg);
  if (engine->signal_handler_) {
    engine->signal_handler_(target, signo);
  } else if (signo == SIGINT || signo == SIGTERM) {
    target.request_stop();
  }
}

void Engine::watch_signals(Reactor& reactor) {
  signal_watch_running_ = true;
  spawn([](Engine& engine, Reactor& home) -> Task<void> {
    while (!home.stop_requested()) {
      auto ready = co_await wait_readable(engine.signal_fd_,
                                          {.cancellation = &engine.signal_watch_cancel_});
      if (!ready) break;
      signalfd_siginfo info{};
      while (read(engine.signal_fd_, &info, sizeof info) == sizeof info) {
        for (unsigned i = 0; i < engine.size(); ++i) {
          CoreMessage message;
          message.handler = &Engine::deliver_signal;
          message.arg = info.ssi_signo;
          message.context = &engine;
          if (i == home.id()) {
            deliver_signal(home, message);
          } else {
            home.post(i, std::move(message));
          }
        }
      }
    }
    engine.signal_watch_running_ = false;
  }(*this, reactor));
}

}  // namespace ringtunnel::runtime
