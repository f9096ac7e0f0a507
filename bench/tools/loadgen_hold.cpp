// SPDX-License-Identifier: MIT
// loadgen hold: open N connections, prove each live with a 16-byte echo, then hold them idle
// (for memory-per-connection figures) for S seconds or until SIGTERM, counting any the peer drops.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "loadgen_commands.hpp"
#include "loadgen_util.hpp"

namespace loadgen {
namespace {

constexpr std::size_t kMessageSize = 16;

enum class HoldState { not_started, connecting, echoing, established, dropped };

struct HeldConnection {
  Fd fd;
  HoldState state = HoldState::not_started;
  std::size_t received = 0;
  std::array<unsigned char, kMessageSize> reply{};
};

void watch(int epoll, int fd, std::uint32_t events, std::uint64_t index, int op) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = index;
  epoll_ctl(epoll, op, fd, &event);
}

std::vector<unsigned char> message_for(std::size_t index) {
  std::vector<unsigned char> message(kMessageSize);
  fill_payload(0x686f6c64ULL, index * kMessageSize, message.data(), message.size());
  return message;
}

/// Drives connects (at most `window` in flight) and the liveness echo. Returns "" or an error.
class Establisher {
 public:
  Establisher(const HoldOptions& options, std::vector<HeldConnection>& connections, int epoll)
      : options_(options), connections_(connections), epoll_(epoll) {}

  std::string run(std::int64_t deadline) {
    std::vector<epoll_event> events(256);
    while (established_ < connections_.size()) {
      if (stop_requested()) return "interrupted while connecting";
      if (now_ns() >= deadline) {
        return "timed out: " + std::to_string(established_) + " of " +
               std::to_string(connections_.size()) + " connections established";
      }
      if (auto error = start_more(); !error.empty()) return error;
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
      for (int e = 0; e < n; ++e) {
        const auto& event = events[static_cast<std::size_t>(e)];
        if (event.data.u64 >= connections_.size()) continue;
        if (auto error = step(event.data.u64); !error.empty()) return error;
      }
    }
    return "";
  }

 private:
  std::string start_more() {
    while (in_flight_ < options_.connect_window && next_ < connections_.size()) {
      const int fd = start_connect(options_.connect);
      if (fd < 0) return "connection " + std::to_string(next_) + ": " + errno_text(-fd);
      connections_[next_].fd.reset(fd);
      connections_[next_].state = HoldState::connecting;
      watch(epoll_, fd, EPOLLOUT, next_, EPOLL_CTL_ADD);
      ++next_;
      ++in_flight_;
    }
    return "";
  }

  std::string step(std::size_t index) {
    HeldConnection& connection = connections_[index];
    const int fd = connection.fd.get();
    const std::string name = "connection " + std::to_string(index) + ": ";
    if (connection.state == HoldState::connecting) {
      if (const int err = connect_result(fd); err != 0) {
        return name + "connect to " + options_.connect.to_string() + ": " + errno_text(err);
      }
      const auto message = message_for(index);
      if (send(fd, message.data(), message.size(), MSG_NOSIGNAL) != ssize_t{kMessageSize}) {
        return name + "send: " + errno_text(errno);
      }
      connection.state = HoldState::echoing;
      watch(epoll_, fd, EPOLLIN, index, EPOLL_CTL_MOD);
      return "";
    }
    if (connection.state != HoldState::echoing) return "";
    const ssize_t got = recv(fd, connection.reply.data() + connection.received,
                             kMessageSize - connection.received, 0);
    if (got == 0) return name + "closed by the peer before echoing";
    if (got < 0) return errno == EAGAIN ? "" : name + "recv: " + errno_text(errno);
    connection.received += static_cast<std::size_t>(got);
    if (connection.received < kMessageSize) return "";
    if (std::memcmp(connection.reply.data(), message_for(index).data(), kMessageSize) != 0) {
      return name + "the echo differs from the message";
    }
    connection.state = HoldState::established;
    watch(epoll_, fd, EPOLLIN | EPOLLRDHUP, index, EPOLL_CTL_MOD);
    --in_flight_;
    ++established_;
    return "";
  }

  const HoldOptions& options_;
  std::vector<HeldConnection>& connections_;
  int epoll_;
  std::size_t next_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t established_ = 0;
};

// Idles until the hold ends; any activity on a held connection means the peer dropped it.
std::size_t hold_idle(std::vector<HeldConnection>& connections, int epoll, std::int64_t until) {
  std::size_t dropped = 0;
  std::vector<epoll_event> events(256);
  while (!stop_requested()) {
    const std::int64_t now = now_ns();
    if (now >= until) break;
    const int timeout_ms =
        static_cast<int>(std::min<std::int64_t>((until - now) / 1'000'000 + 1, 1000));
    const int n = epoll_wait(epoll, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int e = 0; e < n; ++e) {
      const std::size_t index = events[static_cast<std::size_t>(e)].data.u64;
      if (index >= connections.size()) continue;
      HeldConnection& connection = connections[index];
      if (connection.state != HoldState::established) continue;
      connection.state = HoldState::dropped;
      epoll_ctl(epoll, EPOLL_CTL_DEL, connection.fd.get(), nullptr);
      if (dropped++ == 0) {
        std::fprintf(stderr, "loadgen: hold: connection %zu dropped by the peer\n", index);
      }
    }
  }
  return dropped;
}

}  // namespace

int run_hold(const HoldOptions& options) {
  std::vector<HeldConnection> connections(options.connections);
  Fd epoll(epoll_create1(EPOLL_CLOEXEC));
  watch(epoll.get(), stop_fd(), EPOLLIN, connections.size(), EPOLL_CTL_ADD);
  const std::int64_t start = now_ns();
  Establisher establisher(options, connections, epoll.get());
  const std::string error =
      establisher.run(start + static_cast<std::int64_t>(options.timeout * 1e9));
  if (!error.empty()) return fail("hold: " + error);
  const std::int64_t established_at = now_ns();
  const double connect_seconds = static_cast<double>(established_at - start) / 1e9;
  std::printf("loadgen: holding %u connections (established in %.3f s)\n", options.connections,
              connect_seconds);
  std::fflush(stdout);

  const std::size_t dropped = hold_idle(
      connections, epoll.get(), established_at + static_cast<std::int64_t>(options.seconds * 1e9));
  const double held = static_cast<double>(now_ns() - established_at) / 1e9;
  connections.clear();
  if (options.json) {
    print_json({{"mode", "hold"},
                {"connect", options.connect.to_string()},
                {"connections", options.connections},
                {"connect_seconds", connect_seconds},
                {"held_seconds", held},
                {"dropped_by_peer", dropped},
                {"stopped_by_signal", stop_requested()}});
  } else {
    std::printf("hold: %u connections held %.3f s, %zu dropped by the peer\n", options.connections,
                held, dropped);
  }
  if (dropped > 0) {
    return fail("hold: " + std::to_string(dropped) + " connection(s) dropped by the peer");
  }
  return 0;
}

}  // namespace loadgen
