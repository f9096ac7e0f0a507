// SPDX-License-Identifier: MIT
// Task micro benches: a co_await of a Task that completes at once, and spawn() of a trivial task.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <string>

#include "runtime/backend.hpp"
#include "runtime/reactor.hpp"
#include "runtime/task.hpp"

using namespace ringtunnel;
using runtime::Task;

namespace {

/// A reactor made current on the bench thread, as the runtime's own loop would have it.
std::unique_ptr<runtime::Reactor> make_current_reactor(benchmark::State& state) {
  std::string why;
  auto backend = runtime::make_backend(runtime::BackendChoice::io_uring, 256, &why);
  if (!backend) {
    state.SkipWithError(("io_uring unavailable: " + why).c_str());
    return nullptr;
  }
  // Small ring: these benches do no I/O, so the buffers would only cost set-up time.
  auto reactor = std::make_unique<runtime::Reactor>(
      0, std::move(backend), runtime::ReactorOptions{.buffer_count = 8, .buffer_size = 4096});
  reactor->run_once(std::chrono::nanoseconds(0));  // makes it current on this thread
  return reactor;
}

/// Spawns `body(state, done)` and turns the loop until it sets `done` (a long run of awaits that
/// complete at once is bounced through the ready queue every few dozen transfers: see task.hpp).
using BenchBody = Task<void> (*)(benchmark::State& state, bool& done);
void drive(runtime::Reactor& reactor, benchmark::State& state, BenchBody body) {
  bool done = false;
  runtime::spawn(body(state, done));
  while (!done) reactor.run_once(std::chrono::nanoseconds(0));
}

Task<void> nothing() { co_return; }
Task<int> value(int x) { co_return x + 1; }

// The task switch alone: a frame allocation, the transfer into the child, the transfer back and
// the free. The transfer depth is reset every iteration, as after any resume from the loop, so
// no await here is bounced through the ready queue.
void BM_TaskAwaitVoid(benchmark::State& state) {
  auto reactor = make_current_reactor(state);
  if (!reactor) return;
  drive(*reactor, state, [](benchmark::State& s, bool& done) -> Task<void> {
    for (auto _ : s) {
      runtime::detail::reset_transfer_depth();
      co_await nothing();
    }
    done = true;
  });
}
BENCHMARK(BM_TaskAwaitVoid)->MinTime(0.2);

// A long run of such awaits with nothing in between: every 32nd await (64 transfers) is bounced
// through the ready queue and costs a loop turn, whose backend wait is a syscall on io_uring.
void BM_TaskAwaitVoidLongRun(benchmark::State& state) {
  auto reactor = make_current_reactor(state);
  if (!reactor) return;
  const uint64_t turns_before = reactor->stats().loop_iterations;
  drive(*reactor, state, [](benchmark::State& s, bool& done) -> Task<void> {
    for (auto _ : s) co_await nothing();
    done = true;
  });
  state.counters["awaits_per_turn"] =
      static_cast<double>(state.iterations()) /
      static_cast<double>(reactor->stats().loop_iterations - turns_before);
}
BENCHMARK(BM_TaskAwaitVoidLongRun)->MinTime(0.2);

// The same with a value carried back through the promise (std::optional<int>).
void BM_TaskAwaitValue(benchmark::State& state) {
  auto reactor = make_current_reactor(state);
  if (!reactor) return;
  drive(*reactor, state, [](benchmark::State& s, bool& done) -> Task<void> {
    int x = 0;
    for (auto _ : s) {
      runtime::detail::reset_transfer_depth();
      x = co_await value(x);
      benchmark::DoNotOptimize(x);
    }
    done = true;
  });
}
BENCHMARK(BM_TaskAwaitValue)->MinTime(0.2);

// A chain of depth 4: what a handler calling a helper calling a helper costs.
Task<int> nested(int depth) {
  if (depth == 0) co_return 1;
  co_return 1 + co_await nested(depth - 1);
}

void BM_TaskAwaitNested4(benchmark::State& state) {
  auto reactor = make_current_reactor(state);
  if (!reactor) return;
  drive(*reactor, state, [](benchmark::State& s, bool& done) -> Task<void> {
    for (auto _ : s) {
      runtime::detail::reset_transfer_depth();
      int n = co_await nested(3);
      benchmark::DoNotOptimize(n);
    }
    done = true;
  });
}
BENCHMARK(BM_TaskAwaitNested4)->MinTime(0.2);

Task<void> bump(uint64_t& counter) {
  ++counter;
  co_return;
}

// spawn() of a task with nothing to wait for: two frames (the Task and the detached runner) are
// allocated, run to completion inside spawn() and freed. The runtime spawns from a resumed
// coroutine or a completion, where the reactor has just reset the transfer depth; the bench does
// the same, or after 64 spawns each one would be queued instead of run.
void BM_SpawnTrivial(benchmark::State& state) {
  auto reactor = make_current_reactor(state);
  if (!reactor) return;
  uint64_t ran = 0;
  for (auto _ : state) {
    runtime::detail::reset_transfer_depth();
    runtime::spawn(bump(ran));
  }
  if (ran != static_cast<uint64_t>(state.iterations())) state.SkipWithError("a spawned task did not run at once");
}
BENCHMARK(BM_SpawnTrivial)->MinTime(0.2);

// spawn() of a task that suspends once (through the ready queue) and is resumed by the next loop
// turn: the cost of a task that really waits, minus any I/O, plus one (idle) loop turn.
struct YieldOnce {
  runtime::Reactor& reactor;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { reactor.schedule(h); }
  void await_resume() const noexcept {}
};

Task<void> yield_then_bump(runtime::Reactor& reactor, uint64_t& counter) {
  co_await YieldOnce{reactor};
  ++counter;
}

void BM_SpawnYieldResume(benchmark::State& state) {
  auto reactor = make_current_reactor(state);
  if (!reactor) return;
  uint64_t ran = 0;
  for (auto _ : state) {
    runtime::spawn(yield_then_bump(*reactor, ran));
    reactor->run_once(std::chrono::nanoseconds(0));
  }
  // The last spawned task may still be queued.
  reactor->run_once(std::chrono::nanoseconds(0));
  if (ran != static_cast<uint64_t>(state.iterations())) state.SkipWithError("a spawned task was not resumed");
}
BENCHMARK(BM_SpawnYieldResume)->MinTime(0.2);

// One turn of an idle loop (nothing ready, no completions, zero wait): the floor under every
// bounce and every yield above.
void BM_LoopTurnIdle(benchmark::State& state) {
  auto reactor = make_current_reactor(state);
  if (!reactor) return;
  for (auto _ : state) reactor->run_once(std::chrono::nanoseconds(0));
}
BENCHMARK(BM_LoopTurnIdle)->MinTime(0.2);

}  // namespace

BENCHMARK_MAIN();
