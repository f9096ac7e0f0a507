// SPDX-License-Identifier: MIT
// Engine bench: cross-core message round trips between two real reactors, on each backend.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "runtime/engine.hpp"

using namespace ringtunnel;
using runtime::CoreMessage;
using runtime::Reactor;

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t kWarmupRoundTrips = 1'000;
// A run ends after this many timed round trips or this much time, whichever comes first, so a
// slow wake-up path (tens of µs per hop on a loaded VM) still finishes in a bounded time.
constexpr uint64_t kMaxTimedRoundTrips = 200'000;
constexpr auto kMaxTimedDuration = std::chrono::milliseconds(250);
constexpr auto kWatchdogLimit = std::chrono::seconds(30);

/// One engine run: reactor 0 posts to reactor 1, whose handler posts the message straight back.
/// `in_flight` messages circulate at once: 1 measures latency (every hop wakes a sleeping
/// reactor through its doorbell), more measures throughput (doorbells amortised over batches).
/// Everything but the atomics is touched by reactor 0 only, or read after join.
struct PingPong {
  runtime::Engine* engine = nullptr;
  uint64_t in_flight = 1;
  uint64_t sent = 0;
  uint64_t completed = 0;  // including the warm-up
  uint64_t timed = 0;
  uint64_t doorbells_at_start = 0;
  SteadyClock::time_point start;
  SteadyClock::time_point end;
  std::atomic<bool> finished{false};
};

void on_pong(Reactor& self, CoreMessage& m);

// Runs on reactor 1.
void on_ping(Reactor& self, CoreMessage& m) {
  m.handler = &on_pong;
  self.post(0, std::move(m));
}

void send_ping(Reactor& self, PingPong& p) {
  CoreMessage m;
  m.handler = &on_ping;
  m.context = &p;
  m.arg = p.sent++;
  self.post(1, std::move(m));
}

// Runs on reactor 0.
void on_pong(Reactor& self, CoreMessage& m) {
  auto& p = *static_cast<PingPong*>(m.context);
  if (p.finished) return;  // in flight when the run ended
  ++p.completed;
  if (p.completed == kWarmupRoundTrips) {
    p.start = SteadyClock::now();
    p.doorbells_at_start = self.stats().doorbells;
  } else if (p.completed > kWarmupRoundTrips) {
    const auto now = SteadyClock::now();
    p.timed = p.completed - kWarmupRoundTrips;
    if (p.timed == kMaxTimedRoundTrips || now - p.start >= kMaxTimedDuration) {
      p.end = now;
      p.finished = true;
      p.engine->stop();
      return;
    }
  }
  send_ping(self, p);
}

runtime::EngineOptions two_reactors(runtime::BackendChoice backend) {
  runtime::EngineOptions o;
  o.threads = 2;
  o.backend = backend;
  o.pin_threads = true;
  o.handle_signals = false;  // leave the bench process's signal mask alone
  o.reactor = runtime::ReactorOptions{.buffer_count = 8, .buffer_size = 4096};  // no I/O here
  return o;
}

/// Runs one engine to completion; false (with `error` set) if it failed to start or hung.
bool run_once(runtime::BackendChoice backend, PingPong& p, uint64_t& doorbells,
              std::string& error) {
  runtime::Engine engine(two_reactors(backend));
  p.engine = &engine;
  auto started = engine.start([&p](Reactor& r) {
    if (r.id() != 0) return;
    for (uint64_t i = 0; i < p.in_flight; ++i) send_ping(r, p);
  });
  if (!started.ok()) {
    error = "engine did not start: " + engine.backend_reason();
    return false;
  }
  if (engine.backend_kind() !=
      (backend == runtime::BackendChoice::io_uring ? runtime::BackendKind::io_uring
                                                   : runtime::BackendKind::epoll)) {
    engine.stop();
    error = "wrong backend: " + engine.backend_reason();
    return false;
  }
  std::thread watchdog([&engine, &p] {
    const auto deadline = SteadyClock::now() + kWatchdogLimit;
    while (!p.finished && SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!p.finished) engine.stop();
  });
  engine.join();
  watchdog.join();
  if (!p.finished) {
    error = "round trips did not finish within the watchdog limit";
    return false;
  }
  doorbells = engine.reactor(0).stats().doorbells - p.doorbells_at_start;
  return true;
}

// One benchmark iteration = one engine run (warm-up, then timed round trips up to the count or
// time limit); the time is taken inside reactor 0, so thread start-up and join are not counted.
void BM_EngineRoundTrip(benchmark::State& state, runtime::BackendChoice backend) {
  const auto in_flight = static_cast<uint64_t>(state.range(0));
  double seconds = 0;
  uint64_t round_trips = 0;
  uint64_t doorbells = 0;
  for (auto _ : state) {
    PingPong p;
    p.in_flight = in_flight;
    uint64_t rang = 0;
    std::string error;
    if (!run_once(backend, p, rang, error)) {
      state.SkipWithError(error.c_str());
      break;
    }
    const double s = std::chrono::duration<double>(p.end - p.start).count();
    state.SetIterationTime(s);
    seconds += s;
    round_trips += p.timed;
    doorbells += rang;
  }
  if (round_trips == 0) return;
  const double rt = static_cast<double>(round_trips);
  state.counters["round_trips_per_s"] = rt / seconds;
  state.counters["ns_per_round_trip"] = seconds * 1e9 / rt;
  state.counters["doorbells_per_rt"] = static_cast<double>(doorbells) / rt;  // reactor 0's side
  state.SetLabel(backend == runtime::BackendChoice::io_uring ? "MSG_RING doorbell"
                                                             : "eventfd doorbell");
}

BENCHMARK_CAPTURE(BM_EngineRoundTrip, io_uring, runtime::BackendChoice::io_uring)
    ->ArgName("in_flight")
    ->Arg(1)
    ->Arg(64)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EngineRoundTrip, epoll, runtime::BackendChoice::epoll)
    ->ArgName("in_flight")
    ->Arg(1)
    ->Arg(64)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
