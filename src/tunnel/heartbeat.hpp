// SPDX-License-Identifier: MIT
// Heartbeat: when a session sends PING, how it measures RTT, and when a silent peer is dead.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace ringtunnel::tunnel {

struct HeartbeatConfig {
  /// PING every this long (0: never; the peer may still ping us).
  std::chrono::milliseconds interval{15'000};
  /// Nothing at all received for this long: the peer is gone (0: never declared dead).
  std::chrono::milliseconds timeout{60'000};
};

/// The session's liveness bookkeeping, sans-I/O: the session calls tick() from its timer and
/// does what it says. "Heard" is any record from the peer, not only PONG: a busy session is
/// alive without answering pings in time. Silence is sampled at each tick (the session marks
/// `heard` on every receive, which costs a store, not a clock read), so a dead peer is noticed
/// between `timeout` and `timeout + check_every()` after it went quiet.
/// Threads: the session's reactor.
class Heartbeat {
 public:
  using Clock = std::chrono::steady_clock;

  Heartbeat(HeartbeatConfig config, Clock::time_point now) noexcept;

  /// Something arrived from the peer.
  void heard() noexcept { heard_ = true; }

  struct Tick {
    std::optional<std::uint64_t> ping;  ///< send PING with this opaque value
    bool dead = false;                  ///< close the session: idle_timeout
  };
  Tick tick(Clock::time_point now) noexcept;
  /// How often the session's timer should call tick(); zero when there is nothing to do.
  /// Shorter while the start-up probes run (ping_now).
  std::chrono::milliseconds check_every() const noexcept {
    return probes_left_ > 0 ? std::min(check_every_, kProbeEvery) : check_every_;
  }
  /// After ping_now, this many more PINGs kProbeEvery apart, so the smallest round trip is
  /// known within a second even when the first one waited behind the peer's start-up.
  static constexpr int kProbes = 4;
  static constexpr std::chrono::milliseconds kProbeEvery{250};

  /// A PING to send right away (the session's first, so the round trip is known at once),
  /// followed by kProbes more kProbeEvery apart; the interval counts from the last of them.
  /// Nullopt when this side never pings (interval 0).
  std::optional<std::uint64_t> ping_now(Clock::time_point now) noexcept;

  /// A PONG: the round trip if it answers our latest PING (others are stale or forged: ignored).
  std::optional<std::chrono::nanoseconds> on_pong(std::uint64_t opaque,
                                                  Clock::time_point now) noexcept;
  /// The latest measured round trip (nullopt before the first PONG).
  std::optional<std::chrono::nanoseconds> rtt() const noexcept { return rtt_; }
  /// The smallest round trip measured: the path without queues (nullopt before the first).
  std::optional<std::chrono::nanoseconds> min_rtt() const noexcept { return min_rtt_; }
  std::uint64_t pings_sent() const noexcept { return next_opaque_ - 1; }

 private:
  std::uint64_t next_ping(Clock::time_point now) noexcept;

  HeartbeatConfig config_;
  std::chrono::milliseconds check_every_;
  Clock::time_point last_heard_;
  Clock::time_point last_ping_;
  Clock::time_point outstanding_sent_{};
  std::uint64_t outstanding_ = 0;  // opaque of the PING awaiting its PONG (0: none)
  std::uint64_t next_opaque_ = 1;
  std::optional<std::chrono::nanoseconds> rtt_;
  std::optional<std::chrono::nanoseconds> min_rtt_;
  int probes_left_ = 0;
  bool heard_ = false;
};

}  // namespace ringtunnel::tunnel
