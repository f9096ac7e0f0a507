// SPDX-License-Identifier: MIT
// Send bench: plain send vs zero-copy send by size over loopback TCP, to read off the crossover.
#include <benchmark/benchmark.h>
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

/// A peer thread that reads and discards everything until end of stream.
class Drainer {
 public:
  explicit Drainer(int fd) : fd_(fd), thread_([this] { loop(); }) {}
  ~Drainer() { thread_.join(); }  // the sender shuts its side down first
  Drainer(const Drainer&) = delete;
  Drainer& operator=(const Drainer&) = delete;

 private:
  void loop() {
    std::vector<std::byte> sink(256 * 1024);
    while (::recv(fd_, sink.data(), sink.size(), 0) > 0) {
    }
  }
  int fd_;
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
  {
    Drainer drainer(pair->second.get());
    runtime::spawn(send_loop(state, fd, message, mode, totals));
    while (!totals.done) reactor.run_once(std::chrono::milliseconds(10));
    shutdown(fd, SHUT_WR);  // ends the drainer
  }
  if (!totals.error.empty()) {
    state.SkipWithError(totals.error.c_str());
    return;
  }
  state.SetBytesProcessed(static_cast<int64_t>(totals.bytes));
  state.counters["sends_per_msg"] =
      static_cast<double>(totals.sends) / static_cast<double>(state.iterations());
}

}  // namespace

// 4 KiB to 256 KiB in steps of 4x, registered plain, zero copy, plain, zero copy... so the two
// modes of one size run back to back on the same (noisy) machine.
int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (int64_t size : {4 << 10, 16 << 10, 64 << 10, 256 << 10}) {
    for (SendMode mode : {SendMode::plain, SendMode::zero_copy}) {
      const char* name = mode == SendMode::plain ? "BM_Send/plain" : "BM_Send/zero_copy";
      benchmark::RegisterBenchmark(name, BM_Send, mode)->Arg(size)->MinTime(0.3)->UseRealTime();
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
