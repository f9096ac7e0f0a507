// SPDX-License-Identifier: MIT
// loadgen: the subcommands' options and entry points (each returns the process exit code).
#pragma once

#include <cstdint>
#include <string>

#include "loadgen_net.hpp"

namespace loadgen {

/// Exit codes: 0 success, 1 the measurement failed (refused, reset, mismatch, timeout), 2 usage.
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

enum class ServerMode { echo, sink };

struct ServerOptions {
  Endpoint listen;
  ServerMode mode = ServerMode::echo;
  unsigned threads = 1;
  bool json = false;
};

struct ThroughputOptions {
  Endpoint connect;
  double seconds = 10;
  unsigned streams = 1;
  std::size_t chunk = 128 * 1024;
  double drain_timeout = 30;
  bool json = false;
};

struct PingpongOptions {
  Endpoint connect;
  std::uint64_t count = 20000;
  std::size_t size = 64;
  std::uint64_t warmup = 2000;
  double timeout = 60;
  double seconds = 0;  // > 0: stop after this long even if fewer than `count` were measured
  bool json = false;
};

struct HoldOptions {
  Endpoint connect;
  unsigned connections = 1000;
  double seconds = 30;
  unsigned connect_window = 64;
  double timeout = 60;
  bool json = false;
};

struct VerifyOptions {
  Endpoint connect;
  unsigned connections = 100;
  std::uint64_t min_bytes = 1;
  std::uint64_t max_bytes = 262144;
  std::uint64_t seed = 1;
  unsigned connect_window = 64;
  double timeout = 60;
  bool json = false;
};

struct RateOptions {
  Endpoint connect;
  unsigned parallel = 1;
  double seconds = 5;
  double timeout = 10;  // per stream
  bool json = false;
};

struct UdpEchoOptions {
  Endpoint listen;
};

struct UdpPingpongOptions {
  Endpoint connect;
  std::uint64_t count = 20000;
  std::size_t size = 64;
  std::uint64_t warmup = 1000;
  double timeout = 120;
  double seconds = 0;  // > 0: stop after this long even if fewer than `count` were measured
  bool json = false;
};

struct UdpThroughputOptions {
  Endpoint connect;
  double seconds = 5;
  std::size_t size = 1400;
  unsigned window = 64;  // datagrams in flight at most
  bool json = false;
};

int run_server(const ServerOptions& options);
int run_udp_echo(const UdpEchoOptions& options);
int run_udp_pingpong(const UdpPingpongOptions& options);
int run_udp_throughput(const UdpThroughputOptions& options);
int run_throughput(const ThroughputOptions& options);
int run_pingpong(const PingpongOptions& options);
int run_hold(const HoldOptions& options);
int run_verify(const VerifyOptions& options);
int run_rate(const RateOptions& options);

}  // namespace loadgen
