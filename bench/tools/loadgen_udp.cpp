// SPDX-License-Identifier: MIT
// loadgen udp-*: a UDP echo server, UDP ping-pong (RTT percentiles) and windowed UDP
// throughput against that echo (datagrams in flight capped, so what is measured is what the
// path carries, not how fast a sender can overflow a socket buffer).
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "loadgen_commands.hpp"
#include "loadgen_util.hpp"

namespace loadgen {
namespace {

constexpr int kSocketBuffer = 4 * 1024 * 1024;

Fd udp_socket(int family) {
  Fd fd(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.valid()) {
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof kSocketBuffer);
    setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
  }
  return fd;
}

// Waits up to `timeout_ms` for `fd` to be readable (or the stop signal): true when readable.
bool wait_readable(int fd, int timeout_ms) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd(), POLLIN, 0}};
  const int n = poll(fds, 2, timeout_ms);
  return n > 0 && (fds[0].revents & POLLIN) != 0;
}

Fd connected_socket(const Endpoint& to, std::string& error) {
  Fd fd = udp_socket(to.family());
  if (!fd.valid() || connect(fd.get(), to.addr(), to.length) != 0) {
    error = "cannot connect a UDP socket to " + to.to_string() + ": " + errno_text(errno);
    return Fd();
  }
  return fd;
}

}  // namespace

int run_udp_echo(const UdpEchoOptions& options) {
  Fd fd = udp_socket(options.listen.family());
  if (!fd.valid() || bind(fd.get(), options.listen.addr(), options.listen.length) != 0) {
    return fail("cannot bind UDP " + options.listen.to_string() + ": " + errno_text(errno));
  }
  const auto bound = local_endpoint(fd.get());
  std::printf("loadgen: udp echo on %s\n", bound ? bound->to_string().c_str() : "?");
  std::fflush(stdout);
  std::vector<unsigned char> buffer(65536);
  std::uint64_t datagrams = 0;
  while (!stop_requested()) {
    if (!wait_readable(fd.get(), 200)) continue;
    sockaddr_storage from{};
    socklen_t length = sizeof from;
    const ssize_t got = recvfrom(fd.get(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &length);
    if (got < 0) continue;
    sendto(fd.get(), buffer.data(), static_cast<std::size_t>(got), 0,
           reinterpret_cast<sockaddr*>(&from), length);
    ++datagrams;
  }
  std::printf("loadgen: udp echo stopped: %llu datagrams\n",
              static_cast<unsigned long long>(datagrams));
  return 0;
}

int run_udp_pingpong(const UdpPingpongOptions& options) {
  std::string error;
  Fd fd = connected_socket(options.connect, error);
  if (!fd.valid()) return fail(error);
  std::vector<unsigned char> request(std::max<std::size_t>(options.size, 8));
  std::vector<unsigned char> reply(65536);
  fill_payload(0x75647070ULL, 0, request.data(), request.size());
  std::vector<std::int64_t> samples;
  samples.reserve(options.count);
  std::uint64_t lost = 0;
  const std::uint64_t total = options.warmup + options.count;
  const std::int64_t start = now_ns();
  const std::int64_t deadline = start + static_cast<std::int64_t>(options.timeout * 1e9);
  const std::int64_t measure_until =
      options.seconds > 0 ? start + static_cast<std::int64_t>(options.seconds * 1e9) : INT64_MAX;
  for (std::uint64_t round = 0; round < total && !stop_requested() && now_ns() < measure_until;
       ++round) {
    std::memcpy(request.data(), &round, sizeof round);  // a stale reply is told apart
    const std::int64_t sent_at = now_ns();
    if (send(fd.get(), request.data(), options.size, 0) < 0) {
      return fail("send: " + errno_text(errno));
    }
    bool answered = false;
    while (!answered && wait_readable(fd.get(), 1000)) {
      const ssize_t got = recv(fd.get(), reply.data(), reply.size(), MSG_DONTWAIT);
      if (got < 0) break;
      std::uint64_t tag = UINT64_MAX;
      if (got >= 8) std::memcpy(&tag, reply.data(), sizeof tag);
      answered = tag == round && static_cast<std::size_t>(got) == options.size;
    }
    if (!answered) {
      ++lost;  // no reply within a second: counted, not timed
    } else if (round >= options.warmup) {
      samples.push_back(now_ns() - sent_at);
    }
    if (now_ns() > deadline) return fail("timed out (--timeout)");
  }
  const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
  if (samples.empty()) return fail("no datagram came back");
  const std::uint64_t measured = samples.size();
  auto summary = latency_summary_us(std::move(samples));
  if (options.json) {
    print_json({{"mode", "udp-pingpong"}, {"connect", options.connect.to_string()},
                {"size", options.size}, {"count", measured}, {"lost", lost},
                {"seconds", elapsed}, {"rtt_us", summary}});
  } else {
    std::printf("udp-pingpong: %llu round trips of %zu bytes in %.3f s, %llu lost; RTT us: p50 "
                "%.1f  p99 %.1f  max %.1f\n",
                static_cast<unsigned long long>(measured), options.size, elapsed,
                static_cast<unsigned long long>(lost), summary.value("p50", 0.0),
                summary.value("p99", 0.0), summary.value("max", 0.0));
  }
  return 0;
}

int run_udp_throughput(const UdpThroughputOptions& options) {
  std::string error;
  Fd fd = connected_socket(options.connect, error);
  if (!fd.valid()) return fail(error);
  std::vector<unsigned char> payload(options.size);
  fill_payload(0x75647074ULL, 0, payload.data(), payload.size());
  std::vector<unsigned char> reply(65536);
  std::uint64_t sent = 0;
  std::uint64_t echoed = 0;
  std::uint64_t echoed_bytes = 0;
  std::uint64_t in_flight = 0;
  const std::int64_t start = now_ns();
  const std::int64_t end = start + static_cast<std::int64_t>(options.seconds * 1e9);
  while (now_ns() < end && !stop_requested()) {
    while (in_flight < options.window) {
      if (send(fd.get(), payload.data(), payload.size(), MSG_DONTWAIT) < 0) break;
      ++sent;
      ++in_flight;
    }
    if (!wait_readable(fd.get(), 200)) {
      in_flight = 0;  // nothing for 200 ms: what was in flight is lost; open the window again
      continue;
    }
    for (;;) {
      const ssize_t got = recv(fd.get(), reply.data(), reply.size(), MSG_DONTWAIT);
      if (got < 0) break;
      ++echoed;
      echoed_bytes += static_cast<std::uint64_t>(got);
      if (in_flight > 0) --in_flight;
    }
  }
  const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
  const double gbit = static_cast<double>(echoed_bytes) * 8 / elapsed / 1e9;
  const std::uint64_t lost = sent > echoed ? sent - echoed : 0;
  if (echoed == 0) return fail("no datagram came back");
  if (options.json) {
    print_json({{"mode", "udp-throughput"}, {"connect", options.connect.to_string()},
                {"size", options.size}, {"window", options.window}, {"seconds", elapsed},
                {"sent", sent}, {"echoed", echoed}, {"lost", lost}, {"gbit_per_s", gbit},
                {"datagrams_per_s", static_cast<double>(echoed) / elapsed}});
  } else {
    std::printf("udp-throughput: %zu-byte datagrams, window %u: %.3f Gbit/s echoed (%.0f "
                "datagrams/s), %llu of %llu lost\n",
                options.size, options.window, gbit, static_cast<double>(echoed) / elapsed,
                static_cast<unsigned long long>(lost), static_cast<unsigned long long>(sent));
  }
  return 0;
}

}  // namespace loadgen
