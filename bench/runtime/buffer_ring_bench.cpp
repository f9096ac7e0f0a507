// SPDX-License-Identifier: MIT
// Provided-buffer receive bench: a Receiver draining a loopback TCP stream, on each backend.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/socket.hpp"
#include "runtime/backend.hpp"
#include "runtime/reactor.hpp"
#include "runtime/receiver.hpp"
#include "runtime/task.hpp"

using namespace ringtunnel;
using runtime::Task;

namespace {

constexpr std::size_t kChunk = 16 * 1024;  // what the peer writes per send()

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

/// A peer thread, on another CPU than the reactor, that writes kChunk-sized sends into `fd`
/// until told to stop.
class Writer {
 public:
  explicit Writer(int fd)
      : fd_(fd), thread_([this] {
          pin_to_allowed_cpu(1);
          loop();
        }) {}
  ~Writer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);  // wakes a send() blocked on a full socket
    thread_.join();
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

 private:
  void loop() {
    std::vector<std::byte> chunk(kChunk, std::byte{0x5a});
    while (!stop_) {
      if (::send(fd_, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) break;
    }
  }
  int fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct ReceiveTotals {
  uint64_t bytes = 0;
  uint64_t receives = 0;
  std::string error;
  bool done = false;
};

// One iteration = one receive() of whatever the ring buffer got (at most buffer_size bytes),
// then the Buffer goes back to the ring at the end of the loop body.
Task<void> receive_loop(benchmark::State& state, int fd, ReceiveTotals& totals) {
  runtime::Receiver rx(fd);
  for (auto _ : state) {
    auto buffer = co_await rx.receive();
    if (!buffer.ok() || buffer->empty()) {
      totals.error = buffer.ok() ? "peer closed" : buffer.error().message();
      break;
    }
    totals.bytes += buffer->size();
    ++totals.receives;
  }
  totals.done = true;
}

void BM_ProvidedBufferReceive(benchmark::State& state, runtime::BackendChoice choice) {
  std::signal(SIGPIPE, SIG_IGN);
  std::string why;
  auto backend = runtime::make_backend(choice, 256, &why);
  if (!backend) {
    state.SkipWithError(why.c_str());
    return;
  }
  // The runtime's defaults: 256 buffers of 32 KiB per reactor.
  runtime::Reactor reactor(0, std::move(backend), runtime::ReactorOptions{});
  reactor.run_once(std::chrono::nanoseconds(0));  // makes it current on this thread
  auto pair = net::tcp_loopback_pair();
  if (!pair.ok() || !net::set_nonblocking(pair->first.get()).ok()) {
    state.SkipWithError("no loopback TCP pair");
    return;
  }
  ReceiveTotals totals;
  // Fixed placement (reactor on one CPU, peer on another): left to the scheduler it changes from
  // run to run, and so does the result.
  const cpu_set_t before = pin_to_allowed_cpu(0);
  {
    Writer writer(pair->second.get());
    runtime::spawn(receive_loop(state, pair->first.get(), totals));
    while (!totals.done) reactor.run_once(std::chrono::milliseconds(10));
  }
  pthread_setaffinity_np(pthread_self(), sizeof before, &before);
  // Let the Receiver's cancelled multishot complete before the reactor goes away.
  for (int i = 0; i < 5; ++i) reactor.run_once(std::chrono::milliseconds(1));
  if (!totals.error.empty()) {
    state.SkipWithError(totals.error.c_str());
    return;
  }
  state.SetBytesProcessed(static_cast<int64_t>(totals.bytes));
  state.counters["bytes_per_receive"] =
      static_cast<double>(totals.bytes) / static_cast<double>(totals.receives);
  state.counters["ring_exhaustions"] = static_cast<double>(reactor.buffers().exhaustions());
  state.SetLabel(runtime::to_string(reactor.backend().kind()));
}

BENCHMARK_CAPTURE(BM_ProvidedBufferReceive, io_uring, runtime::BackendChoice::io_uring)
    ->MinTime(0.5)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ProvidedBufferReceive, epoll, runtime::BackendChoice::epoll)
    ->MinTime(0.5)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
