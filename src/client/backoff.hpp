// SPDX-License-Identifier: MIT
// Backoff: how long a client waits before its next attempt to reach the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace ringtunnel::client {

/// Exponential backoff with jitter: 1 s, 2 s, 4 s ... capped at 30 s, each ±10 %, back to
/// 1 s after reset() (a session was established). The jitter keeps many clients that lost the
/// same server from coming back in lockstep. Not thread-safe: one per session slot.
class Backoff {
 public:
  using Duration = std::chrono::milliseconds;

  explicit Backoff(Duration first = std::chrono::seconds(1),
                   Duration cap = std::chrono::seconds(30), std::uint64_t seed = 0);

  /// The wait before the next attempt; each call doubles the base up to the cap.
  Duration next();
  void reset() noexcept { attempt_ = 0; }
  unsigned attempts() const noexcept { return attempt_; }

 private:
  Duration first_;
  Duration cap_;
  unsigned attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace ringtunnel::client
