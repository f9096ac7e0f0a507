// SPDX-License-Identifier: MIT
// loadgen rate: N workers each loop connect -> send 1 byte -> read its echo -> half-close -> wait
// for the peer's close, for S seconds; reports streams/s and per-stream time percentiles.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "loadgen_commands.hpp"
#include "loadgen_util.hpp"

namespace loadgen {
namespace {

// A broken path fails every stream at once; stop counting long before that floods anything.
constexpr std::uint64_t kMaxErrors = 1000;
constexpr int kTickMs = 100;  // how often per-stream timeouts are checked at the latest

enum class LaneState { idle, connecting, awaiting_echo, awaiting_close };

const char* state_name(LaneState state) {
  switch (state) {
    case LaneState::connecting:
      return "connecting";
    case LaneState::awaiting_echo:
      return "waiting for the echo";
    case LaneState::awaiting_close:
      return "waiting for the peer's close";
    case LaneState::idle:
      break;
  }
  return "idle";
}

/// One worker: a single stream at a time, restarted as soon as the previous one ends.
struct Lane {
  Fd fd;
  LaneState state = LaneState::idle;
  unsigned char byte = 0;  // the byte sent, which the echo must return
  std::int64_t started_at = 0;
};

class RateRunner {
 public:
  explicit RateRunner(const RateOptions& options)
      : options_(options), lanes_(options.parallel), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    watch(stop_fd(), EPOLLIN, lanes_.size(), EPOLL_CTL_ADD);
  }

  /// Starts streams until `stop_at`, then lets the ones in flight finish (each bounded by the
  /// per-stream timeout). Returns early on a stop signal or after kMaxErrors errors.
  void run(std::int64_t stop_at) {
    stop_at_ = stop_at;
    for (std::size_t i = 0; i < lanes_.size(); ++i) start(i);
    std::vector<epoll_event> events(lanes_.size() + 1);
    while (busy_ > 0) {
      if (stop_requested()) return abandon("interrupted");
      const int n =
          epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), kTickMs);
      for (int e = 0; e < n; ++e) {
        const auto& event = events[static_cast<std::size_t>(e)];
        if (event.data.u64 < lanes_.size()) step(event.data.u64);
      }
      expire_slow_streams();
    }
  }

  std::vector<std::int64_t>& stream_ns() { return stream_ns_; }
  [[nodiscard]] std::uint64_t errors() const { return errors_; }
  [[nodiscard]] const std::string& first_error() const { return first_error_; }

 private:
  void watch(int fd, std::uint32_t events, std::uint64_t index, int op) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = index;
    epoll_ctl(epoll_.get(), op, fd, &event);
  }

  [[nodiscard]] bool may_start() const {
    return now_ns() < stop_at_ && errors_ < kMaxErrors && !stop_requested();
  }

  void start(std::size_t index) {
    Lane& lane = lanes_[index];
    while (may_start()) {
      lane.started_at = now_ns();
      const int fd = start_connect(options_.connect);
      if (fd < 0) {
        count_error("connect to " + options_.connect.to_string() + ": " + errno_text(-fd));
        continue;
      }
      lane.fd.reset(fd);
      lane.state = LaneState::connecting;
      lane.byte = static_cast<unsigned char>(++started_);
      watch(fd, EPOLLOUT, index, EPOLL_CTL_ADD);
      ++busy_;
      return;
    }
  }

  // Ends the lane's stream (an empty `error` = completed) and starts the next one.
  void finish(std::size_t index, const std::string& error) {
    Lane& lane = lanes_[index];
    if (error.empty()) {
      stream_ns_.push_back(now_ns() - lane.started_at);
    } else {
      count_error(error);
    }
    lane.fd.reset();  // closing also removes it from the epoll set
    lane.state = LaneState::idle;
    --busy_;
    start(index);
  }

  void count_error(const std::string& error) {
    if (errors_++ == 0) first_error_ = error;
  }

  void step(std::size_t index) {
    Lane& lane = lanes_[index];
    const int fd = lane.fd.get();
    if (lane.state == LaneState::connecting) {
      if (const int err = connect_result(fd); err != 0) {
        return finish(index, "connect to " + options_.connect.to_string() + ": " + errno_text(err));
      }
      set_nodelay(fd);
      if (send(fd, &lane.byte, 1, MSG_NOSIGNAL) != 1) {
        return finish(index, "send: " + errno_text(errno));
      }
      lane.state = LaneState::awaiting_echo;
      watch(fd, EPOLLIN, index, EPOLL_CTL_MOD);
      return;
    }
    unsigned char reply[2];
    const ssize_t got = recv(fd, reply, sizeof reply, 0);
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return finish(index,
                    std::string("recv while ") + state_name(lane.state) + ": " + errno_text(errno));
    }
    if (lane.state == LaneState::awaiting_echo) return on_echo(index, reply, got);
    if (got > 0) return finish(index, "data after the echo");
    finish(index, "");  // the peer's close: the stream is done
  }

  void on_echo(std::size_t index, const unsigned char* reply, ssize_t got) {
    Lane& lane = lanes_[index];
    if (got == 0) return finish(index, "closed by the peer before the echo");
    if (got != 1 || reply[0] != lane.byte) return finish(index, "the echo differs from the byte");
    // Half-close and wait for the peer's close, so the teardown through the path is part of
    // the stream's time instead of piling up behind the measurement.
    shutdown(lane.fd.get(), SHUT_WR);
    lane.state = LaneState::awaiting_close;
  }

  void expire_slow_streams() {
    const std::int64_t limit = static_cast<std::int64_t>(options_.timeout * 1e9);
    const std::int64_t now = now_ns();
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
      const Lane& lane = lanes_[i];
      if (lane.state == LaneState::idle || now - lane.started_at < limit) continue;
      finish(i, std::string("timed out after ") + std::to_string(options_.timeout) + " s " +
                    state_name(lane.state));
    }
  }

  void abandon(const std::string& why) {
    for (auto& lane : lanes_) {
      if (lane.state == LaneState::idle) continue;
      count_error(why);
      lane.fd.reset();
      lane.state = LaneState::idle;
    }
    busy_ = 0;
  }

  const RateOptions& options_;
  std::vector<Lane> lanes_;
  Fd epoll_;
  std::int64_t stop_at_ = 0;
  std::size_t busy_ = 0;
  std::uint64_t started_ = 0;
  std::uint64_t errors_ = 0;
  std::string first_error_;
  std::vector<std::int64_t> stream_ns_;
};

}  // namespace

int run_rate(const RateOptions& options) {
  RateRunner runner(options);
  const std::int64_t start = now_ns();
  runner.run(start + static_cast<std::int64_t>(options.seconds * 1e9));
  const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
  const std::size_t completed = runner.stream_ns().size();
  const double per_second = elapsed > 0 ? static_cast<double>(completed) / elapsed : 0;
  auto summary = latency_summary_us(std::move(runner.stream_ns()));
  if (options.json) {
    print_json({{"mode", "rate"},
                {"connect", options.connect.to_string()},
                {"parallel", options.parallel},
                {"seconds", elapsed},
                {"streams", completed},
                {"errors", runner.errors()},
                {"first_error", runner.first_error()},
                {"streams_per_s", per_second},
                {"stream_us", summary}});
  } else {
    std::printf(
        "rate: %zu streams (%u in parallel) in %.3f s: %.0f streams/s; stream us: p50 %.1f  "
        "p99 %.1f  max %.1f; %llu error(s)\n",
        completed, options.parallel, elapsed, per_second, summary.value("p50", 0.0),
        summary.value("p99", 0.0), summary.value("max", 0.0),
        static_cast<unsigned long long>(runner.errors()));
  }
  if (runner.errors() > 0) {
    return fail("rate: " + std::to_string(runner.errors()) +
                " stream(s) failed, first: " + runner.first_error());
  }
  if (completed == 0) return fail("rate: no stream completed");
  return 0;
}

}  // namespace loadgen
