// SPDX-License-Identifier: MIT
// loadgen: clock, stop signals, hashing, deterministic payloads and result output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace loadgen {

/// CLOCK_MONOTONIC in nanoseconds.
std::int64_t now_ns();

/// SIGINT/SIGTERM set a flag and make `stop_fd()` readable (an eventfd, never drained, so every
/// epoll that watches it keeps waking). Installed once, before any thread starts. SIGPIPE ignored.
void install_stop_signals();
bool stop_requested();
int stop_fd();

/// FNV-1a, 64-bit: order-sensitive and cheap; enough to tell an echo from a corrupted one.
class Fnv1a64 {
 public:
  void update(const unsigned char* data, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      hash_ = (hash_ ^ data[i]) * 0x100000001b3ULL;
    }
  }
  [[nodiscard]] std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

/// splitmix64: a good 64-bit mix, used for seeds, lengths and payload words.
std::uint64_t splitmix64(std::uint64_t x);

/// Fills `out[0, size)` with payload bytes `[offset, offset + size)` of the stream named by
/// `seed`. Stateless in the offset, so sender and checker regenerate any range independently.
void fill_payload(std::uint64_t seed, std::uint64_t offset, unsigned char* out, std::size_t size);

/// Latency summary in microseconds (nearest-rank percentiles) from samples in nanoseconds.
nlohmann::json latency_summary_us(std::vector<std::int64_t> samples_ns);

/// Prints `result` as one JSON line when `json` is set; otherwise the caller prints text.
void print_json(const nlohmann::json& result);

/// "loadgen: <message>" on stderr; returns `code` so callers can `return fail(...)`.
int fail(const std::string& message, int code = 1);

}  // namespace loadgen
