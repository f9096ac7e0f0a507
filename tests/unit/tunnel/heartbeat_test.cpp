// SPDX-License-Identifier: MIT
// Heartbeat: PING schedule, RTT from the matching PONG only, death by silence.
#include "tunnel/heartbeat.hpp"

#include <catch2/catch.hpp>

using namespace ringtunnel::tunnel;
using namespace std::chrono_literals;
using Clock = Heartbeat::Clock;

TEST_CASE("heartbeat pings every interval and measures the round trip", "[tunnel][heartbeat]") {
  const auto t0 = Clock::now();
  Heartbeat beat({.interval = 15s, .timeout = 60s}, t0);
  CHECK(beat.check_every() == 15s);  // min(interval, timeout / 4)
  CHECK_FALSE(beat.tick(t0 + 10s).ping);
  const auto first = beat.tick(t0 + 15s);
  REQUIRE(first.ping);
  CHECK_FALSE(beat.rtt());
  CHECK_FALSE(beat.on_pong(*first.ping + 1, t0 + 15s + 1ms));  // not ours: ignored
  CHECK(beat.on_pong(*first.ping, t0 + 15s + 3ms) == std::chrono::nanoseconds(3ms));
  CHECK(beat.rtt() == std::chrono::nanoseconds(3ms));
  CHECK_FALSE(beat.on_pong(*first.ping, t0 + 16s));  // a replayed answer changes nothing
  CHECK(beat.rtt() == std::chrono::nanoseconds(3ms));
  beat.heard();
  const auto second = beat.tick(t0 + 30s);
  REQUIRE(second.ping);
  CHECK(*second.ping != *first.ping);
  CHECK(beat.pings_sent() == 2);
}

TEST_CASE("heartbeat declares a silent peer dead after the timeout, not before",
          "[tunnel][heartbeat]") {
  const auto t0 = Clock::now();
  Heartbeat beat({.interval = 15s, .timeout = 60s}, t0);
  beat.heard();
  CHECK_FALSE(beat.tick(t0 + 15s).dead);  // heard: the silence starts at 15 s
  CHECK_FALSE(beat.tick(t0 + 30s).dead);
  CHECK_FALSE(beat.tick(t0 + 74s).dead);
  CHECK(beat.tick(t0 + 75s).dead);
}

TEST_CASE("any traffic keeps a session alive even when PONGs are late", "[tunnel][heartbeat]") {
  const auto t0 = Clock::now();
  Heartbeat beat({.interval = 1s, .timeout = 4s}, t0);
  CHECK(beat.check_every() == 1s);
  for (int second = 1; second <= 20; ++second) {
    beat.heard();  // DATA, never a PONG
    CHECK_FALSE(beat.tick(t0 + std::chrono::seconds(second)).dead);
  }
  CHECK_FALSE(beat.tick(t0 + 23s).dead);
  CHECK(beat.tick(t0 + 24s).dead);
}

TEST_CASE("heartbeat can be switched off in either part", "[tunnel][heartbeat]") {
  const auto t0 = Clock::now();
  Heartbeat off({.interval = 0ms, .timeout = 0ms}, t0);
  CHECK(off.check_every() == 0ms);
  Heartbeat no_timeout({.interval = 5s, .timeout = 0ms}, t0);
  CHECK(no_timeout.check_every() == 5s);
  CHECK_FALSE(no_timeout.tick(t0 + 1h).dead);
  Heartbeat no_ping({.interval = 0ms, .timeout = 8s}, t0);
  CHECK(no_ping.check_every() == 2s);
  CHECK_FALSE(no_ping.tick(t0 + 2s).ping);
  CHECK(no_ping.tick(t0 + 8s).dead);
  Heartbeat fast({.interval = 1ms, .timeout = 4ms}, t0);
  CHECK(fast.check_every() == 10ms);  // never busier than that
}

TEST_CASE("heartbeat: a PING at once and a few quick probes, then every interval; the smallest "
          "RTT stays",
          "[tunnel][heartbeat]") {
  const auto t0 = Clock::now();
  Heartbeat beat({.interval = 15s, .timeout = 60s}, t0);
  const auto first = beat.ping_now(t0);
  REQUIRE(first);
  CHECK(beat.check_every() == Heartbeat::kProbeEvery);
  CHECK(beat.on_pong(*first, t0 + 40ms));  // slow: the peer was still starting
  auto at = t0;
  for (int i = 0; i < Heartbeat::kProbes; ++i) {
    at += Heartbeat::kProbeEvery;
    const auto probe = beat.tick(at);
    REQUIRE(probe.ping);
    CHECK(beat.on_pong(*probe.ping, at + std::chrono::milliseconds(2 + i)));
  }
  CHECK(beat.min_rtt() == std::chrono::nanoseconds(2ms));
  CHECK(beat.check_every() == 15s);  // probes done: back to the interval
  CHECK_FALSE(beat.tick(at + 14s).ping);
  const auto regular = beat.tick(at + 15s);
  REQUIRE(regular.ping);
  CHECK(beat.on_pong(*regular.ping, at + 15s + 9ms));
  CHECK(beat.rtt() == std::chrono::nanoseconds(9ms));
  CHECK(beat.min_rtt() == std::chrono::nanoseconds(2ms));
  CHECK(beat.pings_sent() == 2 + Heartbeat::kProbes);
  Heartbeat silent({.interval = 0ms, .timeout = 60s}, t0);
  CHECK_FALSE(silent.ping_now(t0));  // a side that never pings does not start either
}
