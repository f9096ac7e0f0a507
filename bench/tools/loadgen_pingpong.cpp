// SPDX-License-Identifier: MIT
// loadgen pingpong: one TCP_NODELAY connection, N request/response round trips against an echo
// server, each timed with CLOCK_MONOTONIC; reports percentiles in microseconds.
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "loadgen_commands.hpp"
#include "loadgen_util.hpp"

namespace loadgen {
namespace {

constexpr int kConnectTimeoutMs = 10'000;
constexpr int kIoTimeoutSeconds = 5;  // one round trip slower than this is a failure

// Whole-buffer blocking I/O. Returns 0, -1 at EOF, or an errno (EAGAIN = SO_*TIMEO expired).
int send_all(int fd, const unsigned char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t sent = send(fd, data + done, size - done, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR && !stop_requested()) continue;
      return errno;
    }
    done += static_cast<std::size_t>(sent);
  }
  return 0;
}

int recv_all(int fd, unsigned char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got = recv(fd, data + done, size - done, 0);
    if (got == 0) return -1;
    if (got < 0) {
      if (errno == EINTR && !stop_requested()) continue;
      return errno;
    }
    done += static_cast<std::size_t>(got);
  }
  return 0;
}

std::string io_error(const char* what, std::uint64_t round, int result) {
  const std::string why = result < 0 ? "the server closed the connection"
                          : result == EAGAIN
                              ? "no reply within " + std::to_string(kIoTimeoutSeconds) + " s"
                              : errno_text(result);
  return std::string(what) + " in round trip " + std::to_string(round) + ": " + why;
}

}  // namespace

int run_pingpong(const PingpongOptions& options) {
  const int raw = connect_blocking(options.connect, kConnectTimeoutMs);
  if (raw < 0) {
    return fail("cannot connect to " + options.connect.to_string() + ": " + errno_text(-raw));
  }
  Fd fd(raw);
  set_nodelay(fd.get());
  const timeval io_timeout{kIoTimeoutSeconds, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &io_timeout, sizeof io_timeout);
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &io_timeout, sizeof io_timeout);

  std::vector<unsigned char> request(options.size);
  std::vector<unsigned char> reply(options.size);
  fill_payload(0x70696e67ULL, 0, request.data(), request.size());
  std::vector<std::int64_t> samples;
  samples.reserve(options.count);
  const std::uint64_t total = options.warmup + options.count;
  const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(options.timeout * 1e9);
  const std::int64_t start = now_ns();
  const std::int64_t measure_until =
      options.seconds > 0 ? start + static_cast<std::int64_t>(options.seconds * 1e9) : INT64_MAX;
  for (std::uint64_t round = 0; round < total && now_ns() < measure_until; ++round) {
    // Tag each request so a stale or mixed-up reply is caught, not timed.
    std::memcpy(request.data(), &round, std::min(sizeof round, request.size()));
    const std::int64_t sent_at = now_ns();
    if (const int r = send_all(fd.get(), request.data(), request.size()); r != 0) {
      return fail(stop_requested() ? "interrupted" : io_error("send", round, r));
    }
    if (const int r = recv_all(fd.get(), reply.data(), reply.size()); r != 0) {
      return fail(stop_requested() ? "interrupted" : io_error("recv", round, r));
    }
    const std::int64_t done_at = now_ns();
    if (reply != request) {
      return fail("round trip " + std::to_string(round) + ": the echo differs from the request");
    }
    if (round >= options.warmup) samples.push_back(done_at - sent_at);
    if (done_at > deadline) {
      return fail("timed out after " + std::to_string(round + 1) + " of " + std::to_string(total) +
                  " round trips (--timeout " + std::to_string(options.timeout) + " s)");
    }
  }
  const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
  if (samples.empty()) return fail("no round trip was measured (--seconds too short?)");
  const std::uint64_t measured = samples.size();
  auto summary = latency_summary_us(std::move(samples));
  if (options.json) {
    print_json({{"mode", "pingpong"},
                {"connect", options.connect.to_string()},
                {"size", options.size},
                {"count", measured},
                {"warmup", options.warmup},
                {"seconds", elapsed},
                {"rtt_us", summary}});
  } else {
    std::printf(
        "pingpong: %llu round trips of %zu bytes (+%llu warmup) in %.3f s; RTT us: "
        "p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
        static_cast<unsigned long long>(measured), options.size,
        static_cast<unsigned long long>(options.warmup), elapsed, summary.value("p50", 0.0),
        summary.value("p90", 0.0), summary.value("p99", 0.0), summary.value("p99.9", 0.0),
        summary.value("max", 0.0));
  }
  return 0;
}

}  // namespace loadgen
