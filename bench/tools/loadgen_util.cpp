// SPDX-License-Identifier: MIT
// loadgen: clock, stop signals, hashing, deterministic payloads and result output.
#include "loadgen_util.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace loadgen {

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace {
volatile std::sig_atomic_t g_stop = 0;
int g_stop_fd = -1;

extern "C" void on_stop_signal(int) {
  g_stop = 1;
  const std::uint64_t one = 1;
  if (g_stop_fd >= 0) {
    // Async-signal-safe; the result does not matter (the flag is the source of truth).
    [[maybe_unused]] const auto ignored = write(g_stop_fd, &one, sizeof one);
  }
}
}  // namespace

void install_stop_signals() {
  if (g_stop_fd < 0) g_stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and see the flag
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, nullptr);
}

bool stop_requested() {
  return g_stop != 0;
}

int stop_fd() {
  return g_stop_fd;
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void fill_payload(std::uint64_t seed, std::uint64_t offset, unsigned char* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const std::uint64_t position = offset + done;
    const std::uint64_t word = splitmix64(seed ^ (position / 8) * 0xd1342543de82ef95ULL);
    unsigned char bytes[8];
    std::memcpy(bytes, &word, sizeof bytes);
    const std::size_t first = position % 8;
    const std::size_t take = std::min<std::size_t>(8 - first, size - done);
    std::memcpy(out + done, bytes + first, take);
    done += take;
  }
}

nlohmann::json latency_summary_us(std::vector<std::int64_t> samples_ns) {
  nlohmann::json summary = nlohmann::json::object();
  summary["samples"] = samples_ns.size();
  if (samples_ns.empty()) return summary;
  std::sort(samples_ns.begin(), samples_ns.end());
  const auto at = [&](double percent) {
    const auto n = static_cast<double>(samples_ns.size());
    auto rank = static_cast<std::size_t>(std::ceil(percent / 100.0 * n));
    rank = std::clamp<std::size_t>(rank, 1, samples_ns.size());
    return static_cast<double>(samples_ns[rank - 1]) / 1000.0;
  };
  double sum = 0;
  for (const auto sample : samples_ns) sum += static_cast<double>(sample);
  summary["min"] = static_cast<double>(samples_ns.front()) / 1000.0;
  summary["mean"] = sum / static_cast<double>(samples_ns.size()) / 1000.0;
  summary["p50"] = at(50);
  summary["p90"] = at(90);
  summary["p99"] = at(99);
  summary["p99.9"] = at(99.9);
  summary["max"] = static_cast<double>(samples_ns.back()) / 1000.0;
  return summary;
}

void print_json(const nlohmann::json& result) {
  std::printf("%s\n", result.dump().c_str());
  std::fflush(stdout);
}

int fail(const std::string& message, int code) {
  std::fprintf(stderr, "loadgen: %s\n", message.c_str());
  return code;
}

}  // namespace loadgen
