// SPDX-License-Identifier: MIT
// loadgen throughput: N streams blast a sink for S seconds, half-close, and wait for the sink to
// close, so the figure counts only bytes the far end has read (elapsed time includes the drain).
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "loadgen_commands.hpp"
#include "loadgen_util.hpp"

namespace loadgen {
namespace {

constexpr int kConnectTimeoutMs = 10'000;
constexpr int kSendsPerWake = 4;

struct Stream {
  Fd fd;
  std::uint64_t bytes = 0;
  bool write_closed = false;
  bool finished = false;  // the peer closed after our half-close
};

std::string stream_error(std::size_t index, const char* what, int err) {
  return "stream " + std::to_string(index) + ": " + what + ": " + errno_text(err);
}

// Sends until EAGAIN or kSendsPerWake chunks (a fast sink may never push back, and the clock
// and the other streams must get a look in). Returns 0 or an errno.
int pump(Stream& stream, const std::vector<unsigned char>& chunk) {
  for (int i = 0; i < kSendsPerWake; ++i) {
    const ssize_t sent = send(stream.fd.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (sent < 0) return errno == EAGAIN ? 0 : errno;
    stream.bytes += static_cast<std::uint64_t>(sent);
  }
  return 0;
}

// Reads and discards; a sink sends nothing, so data here only means a misbehaving peer.
// Returns 0 on EAGAIN, -1 at EOF, or an errno.
int drain(Stream& stream, std::vector<unsigned char>& scratch) {
  for (;;) {
    const ssize_t got = recv(stream.fd.get(), scratch.data(), scratch.size(), 0);
    if (got == 0) return -1;
    if (got < 0) return errno == EAGAIN ? 0 : errno;
  }
}

}  // namespace

int run_throughput(const ThroughputOptions& options) {
  std::vector<Stream> streams(options.streams);
  Fd epoll(epoll_create1(EPOLL_CLOEXEC));
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const int fd = connect_blocking(options.connect, kConnectTimeoutMs);
    if (fd < 0) {
      return fail("cannot connect to " + options.connect.to_string() + ": " + errno_text(-fd));
    }
    set_nonblocking(fd);
    streams[i].fd.reset(fd);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT;
    event.data.u64 = i;
    epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &event);
  }
  epoll_event stop_event{};
  stop_event.events = EPOLLIN;
  stop_event.data.u64 = streams.size();
  epoll_ctl(epoll.get(), EPOLL_CTL_ADD, stop_fd(), &stop_event);

  std::vector<unsigned char> chunk(options.chunk);
  fill_payload(0x7468726f75676870ULL, 0, chunk.data(), chunk.size());
  std::vector<unsigned char> scratch(64 * 1024);
  std::vector<epoll_event> events(streams.size() + 1);

  const std::int64_t start = now_ns();
  const std::int64_t send_until = start + static_cast<std::int64_t>(options.seconds * 1e9);
  const std::int64_t give_up_at =
      send_until + static_cast<std::int64_t>(options.drain_timeout * 1e9);
  std::int64_t send_end = 0;
  std::size_t finished = 0;
  while (finished < streams.size()) {
    const std::int64_t now = now_ns();
    if (stop_requested()) return fail("interrupted");
    if (now >= give_up_at) {
      return fail(std::to_string(streams.size() - finished) +
                  " stream(s) not closed by the server " + std::to_string(options.drain_timeout) +
                  " s after the half-close (is it a sink?)");
    }
    if (now >= send_until && send_end == 0) {
      send_end = now;
      for (auto& stream : streams) {
        shutdown(stream.fd.get(), SHUT_WR);
        stream.write_closed = true;
      }
      for (std::size_t i = 0; i < streams.size(); ++i) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = i;
        epoll_ctl(epoll.get(), EPOLL_CTL_MOD, streams[i].fd.get(), &event);
      }
    }
    const std::int64_t wake_at = send_end == 0 ? send_until : give_up_at;
    const int timeout_ms = static_cast<int>((wake_at - now) / 1'000'000) + 1;
    const int n =
        epoll_wait(epoll.get(), events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int e = 0; e < n; ++e) {
      const auto& event = events[static_cast<std::size_t>(e)];
      const std::size_t i = event.data.u64;
      if (i >= streams.size() || streams[i].finished) continue;
      Stream& stream = streams[i];
      if (event.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        const int result = drain(stream, scratch);
        if (result > 0) return fail(stream_error(i, "recv", result));
        if (result < 0) {
          if (!stream.write_closed)
            return fail("stream " + std::to_string(i) + ": closed by the peer while sending");
          stream.finished = true;
          ++finished;
          epoll_ctl(epoll.get(), EPOLL_CTL_DEL, stream.fd.get(), nullptr);
          continue;
        }
      }
      if ((event.events & EPOLLOUT) && !stream.write_closed) {
        const int err = pump(stream, chunk);
        if (err != 0) return fail(stream_error(i, "send", err));
      }
    }
  }
  const std::int64_t end = now_ns();

  std::uint64_t total = 0;
  nlohmann::json per_stream = nlohmann::json::array();
  for (const auto& stream : streams) {
    total += stream.bytes;
    per_stream.push_back(stream.bytes);
  }
  const double elapsed = static_cast<double>(end - start) / 1e9;
  const double send_elapsed = static_cast<double>(send_end - start) / 1e9;
  const double gbps = static_cast<double>(total) * 8 / elapsed / 1e9;
  if (options.json) {
    print_json({{"mode", "throughput"},
                {"connect", options.connect.to_string()},
                {"streams", options.streams},
                {"chunk", options.chunk},
                {"bytes", total},
                {"seconds", elapsed},
                {"send_seconds", send_elapsed},
                {"drain_seconds", elapsed - send_elapsed},
                {"gbit_per_s", gbps},
                {"per_stream_bytes", per_stream}});
  } else {
    std::printf(
        "throughput: %u stream(s), %llu bytes in %.3f s (%.3f s sending + %.3f s drain): "
        "%.3f Gbit/s\n",
        options.streams, static_cast<unsigned long long>(total), elapsed, send_elapsed,
        elapsed - send_elapsed, gbps);
  }
  return 0;
}

}  // namespace loadgen
