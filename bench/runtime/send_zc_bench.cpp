// SPDX-License-Identifier: MIT
// Send bench: plain send vs zero-copy send by size over loopback TCP, to read off the crossover.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cerrno>
#include <cstddef>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "net/socket.hpp"
#include "runtime/backend.hpp"
#include "runtime/io.hpp"
#include "runtime/reactor.hpp"
#include "runtime/task.hpp"

using namespace ringtunnel;
using runtime::Task;

namespace {

enum class SendMode { plain, zero_copy };

/// Pins the calling thread to the index-th CPU it may run on; returns its previous CPU set.
cpu_set_t pin_to_allowed_cpu(unsigned index) {
  cpu_set_t before;
  CPU_ZERO(&before);
  pthread_getaffinity_np(pthread_self(), sizeof before, &before);
  const int total = CPU_COUNT(&before);
  for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE && total > 0; ++cpu) {
    if (!CPU_ISSET(cpu, &before) || seen++ != static_cast<int>(index % total)) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    break;
  }
  return before;
}

/// A peer thread that reads and discards everything until end of stream, counting the bytes.
class Drainer {
 public:
  Drainer(int fd, unsigned cpu_index)
      : fd_(fd), thread_([this, cpu_index] {
          pin_to_allowed_cpu(cpu_index);
          loop();
        }) {}
  ~Drainer() { join(); }
  Drainer(const Drainer&) = delete;
  Drainer& operator=(const Drainer&) = delete;

  /// Waits for end of stream (the sender shuts its side down first); returns the bytes read.
  uint64_t join() {
    if (thread_.joinable()) thread_.join();
    return received_;
  }

 private:
  void loop() {
    std::vector<std::byte> sink(256 * 1024);
    for (ssize_t n; (n = ::recv(fd_, sink.data(), sink.size(), 0)) > 0;) {
      received_ += static_cast<uint64_t>(n);
    }
  }
  int fd_;
  uint64_t received_ = 0;  // written by the drainer thread, read after join
  std::thread thread_;
};

struct SendTotals {
  uint64_t bytes = 0;
  uint64_t sends = 0;
  std::string error;
  bool done = false;
};

// One iteration = the whole message handed to the kernel, resubmitting after short sends. With
// zero copy each send resumes only after the kernel's notification, so reusing `message` on the
// next iteration is safe (and the wait for the notification is part of the measured cost).
Task<void> send_loop(benchmark::State& state, int fd, std::span<const std::byte> message,
                     SendMode mode, SendTotals& totals) {
  for (auto _ : state) {
    auto rest = message;
    while (!rest.empty()) {
      Result<std::size_t> sent = errno_code(EINVAL);
      if (mode == SendMode::zero_copy) {
        sent = co_await runtime::send_zero_copy(fd, rest);
      } else {
        sent = co_await runtime::send(fd, rest);
      }
      if (!sent.ok() || *sent == 0) {
        totals.error = sent.ok() ? "send returned 0" : sent.error().message();
        totals.done = true;
        co_return;
      }
      ++totals.sends;
      rest = rest.subspan(*sent);
    }
    totals.bytes += message.size();
  }
  totals.done = true;
}

void BM_Send(benchmark::State& state, SendMode mode) {
  std::signal(SIGPIPE, SIG_IGN);
  std::string why;
  // Zero copy is an io_uring feature (the epoll backend falls back to a plain send), so both
  // modes run on io_uring for a like-for-like comparison.
  auto backend = runtime::make_backend(runtime::BackendChoice::io_uring, 256, &why);
  if (!backend) {
    state.SkipWithError(why.c_str());
    return;
  }
  runtime::Reactor reactor(0, std::move(backend),
                           runtime::ReactorOptions{.buffer_count = 8, .buffer_size = 4096});
  reactor.run_once(std::chrono::nanoseconds(0));  // makes it current on this thread
  auto pair = net::tcp_loopback_pair();
  if (!pair.ok() || !net::set_nonblocking(pair->first.get()).ok()) {
    state.SkipWithError("no loopback TCP pair");
    return;
  }
  const int fd = pair->first.get();
  std::vector<std::byte> message(static_cast<std::size_t>(state.range(0)), std::byte{0xa5});
  SendTotals totals;
  // The placement decides the result (the loopback delivery work lands on one CPU or the other),
  // and left to the scheduler it changes from run to run: so it is fixed, and both are measured.
  const bool same_cpu = state.range(1) != 0;
  Drainer drainer(pair->second.get(), same_cpu ? 0 : 1);
  const cpu_set_t before = pin_to_allowed_cpu(0);
  runtime::spawn(send_loop(state, fd, message, mode, totals));
  while (!totals.done) reactor.run_once(std::chrono::milliseconds(10));
  shutdown(fd, SHUT_WR);  // ends the drainer
  const uint64_t delivered = drainer.join();
  pthread_setaffinity_np(pthread_self(), sizeof before, &before);
  if (!totals.error.empty()) {
    state.SkipWithError(totals.error.c_str());
    return;
  }
  // Count only what arrived: a send that "completed" without delivering would flatter a mode.
  if (delivered != totals.bytes) {
    state.SkipWithError("the reader did not receive every byte that was sent");
    return;
  }
  state.SetBytesProcessed(static_cast<int64_t>(totals.bytes));
  state.counters["sends_per_msg"] =
      static_cast<double>(totals.sends) / static_cast<double>(state.iterations());
}

}  // namespace

// 4 KiB to 256 KiB (plus 32 KiB, to narrow the crossover), with the reader on another CPU and on
// the sender's CPU. Registered plain, zero copy, plain, zero copy... so the two modes of one case
// run back to back on the same (noisy) machine.
int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (int64_t size : {4 << 10, 16 << 10, 32 << 10, 64 << 10, 256 << 10}) {
    for (int64_t same_cpu : {0, 1}) {
      for (SendMode mode : {SendMode::plain, SendMode::zero_copy}) {
        const char* name = mode == SendMode::plain ? "BM_Send/plain" : "BM_Send/zero_copy";
        benchmark::RegisterBenchmark(name, BM_Send, mode)
            ->Args({size, same_cpu})
            ->ArgNames({"bytes", "same_cpu"})
            ->MinTime(0.1)
            ->UseRealTime();
      }
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
