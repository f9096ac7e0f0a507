// SPDX-License-Identifier: MIT
// SpscQueue micro benches: push+pop on one thread, and a ping-pong round trip between two threads.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>
#include <type_traits>

#include "runtime/core_message.hpp"
#include "runtime/spsc_queue.hpp"

using namespace ringtunnel;
using runtime::SpscQueue;

namespace {

constexpr std::size_t kCapacity = 1024;  // the Engine's default mailbox size

/// A trivially copyable message the size of a cache line.
struct Message64 {
  uint64_t words[8];
};
static_assert(sizeof(Message64) == 64);

template <typename T>
T make_message(uint64_t n) {
  if constexpr (std::is_same_v<T, uint64_t>) {
    return n;
  } else if constexpr (std::is_same_v<T, Message64>) {
    return Message64{{n, n, n, n, n, n, n, n}};
  } else {
    T m;  // runtime::CoreMessage: the real mailbox payload (non-trivial move, empty fd and bytes)
    m.arg = n;
    return m;
  }
}

template <typename T>
uint64_t tag_of(const T& m) {
  if constexpr (std::is_same_v<T, uint64_t>) {
    return m;
  } else if constexpr (std::is_same_v<T, Message64>) {
    return m.words[0];
  } else {
    return m.arg;
  }
}

// Push then pop on one thread: the cost of the queue itself, with every cache line local.
template <typename T>
void BM_SpscPushPop(benchmark::State& state) {
  SpscQueue<T> queue(kCapacity);
  uint64_t n = 0;
  for (auto _ : state) {
    T m = make_message<T>(n++);
    benchmark::DoNotOptimize(queue.try_push(m));
    auto out = queue.try_pop();
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK_TEMPLATE(BM_SpscPushPop, uint64_t)->MinTime(0.2);
BENCHMARK_TEMPLATE(BM_SpscPushPop, Message64)->MinTime(0.2);
BENCHMARK_TEMPLATE(BM_SpscPushPop, runtime::CoreMessage)->MinTime(0.2);

// A burst of 64 pushes then 64 pops: how the reactor drains a mailbox, reported per message.
template <typename T>
void BM_SpscBurst64(benchmark::State& state) {
  constexpr int kBurst = 64;
  SpscQueue<T> queue(kCapacity);
  uint64_t n = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBurst; ++i) {
      T m = make_message<T>(n++);
      benchmark::DoNotOptimize(queue.try_push(m));
    }
    for (int i = 0; i < kBurst; ++i) {
      auto out = queue.try_pop();
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetItemsProcessed(state.iterations() * kBurst);
}
BENCHMARK_TEMPLATE(BM_SpscBurst64, uint64_t)->MinTime(0.2);
BENCHMARK_TEMPLATE(BM_SpscBurst64, Message64)->MinTime(0.2);
BENCHMARK_TEMPLATE(BM_SpscBurst64, runtime::CoreMessage)->MinTime(0.2);

void pin_to_allowed_cpu(unsigned index) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  const int total = CPU_COUNT(&allowed);
  int seen = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && total > 0; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed) || seen++ != static_cast<int>(index % total)) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    return;
  }
}

/// Spin briefly, then yield: busy-waiting is the point on two cores, but on one core the other
/// side could never run.
inline void relax(unsigned& spins) {
  if (++spins < 1024) {
    __builtin_ia32_pause();
  } else {
    spins = 0;
    std::this_thread::yield();
  }
}

// Ping-pong: the bench thread pushes into `ping`, a second thread pops it and pushes it back into
// `pong`; one iteration is one full round trip (two cache-line transfers each way). Both threads
// spin, as reactors with work would, so this is the queue's floor, without any wake-up cost
// (engine_bench.cpp measures that).
template <typename T>
void BM_SpscRoundTrip(benchmark::State& state) {
  SpscQueue<T> ping(kCapacity);
  SpscQueue<T> pong(kCapacity);
  std::atomic<bool> stop{false};
  const bool two_cpus = std::thread::hardware_concurrency() >= 2;
  cpu_set_t original;
  pthread_getaffinity_np(pthread_self(), sizeof original, &original);
  std::thread echo([&] {
    if (two_cpus) pin_to_allowed_cpu(1);
    unsigned spins = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      if (auto m = ping.try_pop()) {
        while (!pong.try_push(*m)) relax(spins);
      } else {
        relax(spins);
      }
    }
  });
  if (two_cpus) pin_to_allowed_cpu(0);
  uint64_t n = 0;
  bool in_order = true;
  for (auto _ : state) {
    T m = make_message<T>(n);
    unsigned spins = 0;
    while (!ping.try_push(m)) relax(spins);
    std::optional<T> back;
    while (!(back = pong.try_pop())) relax(spins);
    in_order &= tag_of(*back) == n++;
  }
  stop.store(true, std::memory_order_relaxed);
  echo.join();
  pthread_setaffinity_np(pthread_self(), sizeof original, &original);  // undo the pinning
  if (!in_order) state.SkipWithError("a message came back out of order");
}
BENCHMARK_TEMPLATE(BM_SpscRoundTrip, uint64_t)->MinTime(0.2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_SpscRoundTrip, Message64)->MinTime(0.2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_SpscRoundTrip, runtime::CoreMessage)->MinTime(0.2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
