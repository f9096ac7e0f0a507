// SPDX-License-Identifier: MIT
// Heartbeat: PING schedule, RTT from the matching PONG, dead-peer detection by silence.
#include "tunnel/heartbeat.hpp"

#include <algorithm>

namespace ringtunnel::tunnel {

using std::chrono::milliseconds;

namespace {

// Check four times per timeout (so silence is noticed at most a quarter late) and at least
// once per interval; never busier than every 10 ms.
milliseconds check_period(const HeartbeatConfig& config) {
  milliseconds period = config.interval;
  if (config.timeout.count() > 0) {
    const milliseconds quarter = config.timeout / 4;
    period = period.count() > 0 ? std::min(period, quarter) : quarter;
  }
  if (period.count() == 0) return period;
  return std::max(period, milliseconds(10));
}

}  // namespace

Heartbeat::Heartbeat(HeartbeatConfig config, Clock::time_point now) noexcept
    : config_(config), check_every_(check_period(config)), last_heard_(now), last_ping_(now) {}

Heartbeat::Tick Heartbeat::tick(Clock::time_point now) noexcept {
  Tick tick;
  if (heard_) {
    heard_ = false;
    last_heard_ = now;
  }
  if (config_.timeout.count() > 0 && now - last_heard_ >= config_.timeout) {
    tick.dead = true;
    return tick;
  }
  if (probes_left_ > 0 && now - last_ping_ >= kProbeEvery) {
    --probes_left_;
    tick.ping = next_ping(now);
  } else if (config_.interval.count() > 0 && now - last_ping_ >= config_.interval) {
    tick.ping = next_ping(now);
  }
  return tick;
}

std::optional<std::uint64_t> Heartbeat::ping_now(Clock::time_point now) noexcept {
  if (config_.interval.count() == 0) return std::nullopt;
  probes_left_ = kProbes;
  return next_ping(now);
}

std::uint64_t Heartbeat::next_ping(Clock::time_point now) noexcept {
  last_ping_ = now;
  outstanding_ = next_opaque_++;
  outstanding_sent_ = now;
  return outstanding_;
}

std::optional<std::chrono::nanoseconds> Heartbeat::on_pong(std::uint64_t opaque,
                                                           Clock::time_point now) noexcept {
  if (opaque == 0 || opaque != outstanding_) return std::nullopt;
  outstanding_ = 0;
  rtt_ = now - outstanding_sent_;
  if (!min_rtt_ || *rtt_ < *min_rtt_) min_rtt_ = rtt_;
  return rtt_;
}

}  // namespace ringtunnel::tunnel
