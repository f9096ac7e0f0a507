// SPDX-License-Identifier: MIT
// loadgen server: an epoll echo or sink server, one epoll per thread sharing one listener.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "loadgen_commands.hpp"
#include "loadgen_util.hpp"

namespace loadgen {
namespace {

constexpr std::size_t kReadSize = 256 * 1024;
constexpr int kMaxEvents = 256;
constexpr int kPauseAfterEmfileMs = 100;

struct ServerTotals {
  std::uint64_t accepted = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t accept_errors = 0;
  std::uint64_t connection_errors = 0;
};

struct Connection {
  Fd fd;
  std::vector<unsigned char> pending;  // echo bytes the kernel did not take yet
  std::size_t pending_offset = 0;
};

/// One worker: its own epoll and connections; the listener and stop eventfd are shared and
/// registered with EPOLLEXCLUSIVE / level-triggered so one accept wakes one worker.
class Worker {
 public:
  Worker(int listener, ServerMode mode) : listener_(listener), mode_(mode), buffer_(kReadSize) {}

  void run() {
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    watch_listener(true);
    epoll_event stop_event{};
    stop_event.events = EPOLLIN;
    stop_event.data.fd = stop_fd();
    epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stop_fd(), &stop_event);
    std::vector<epoll_event> events(kMaxEvents);
    while (!stop_requested()) {
      const int timeout = listener_paused_ ? kPauseAfterEmfileMs : 1000;
      const int n = epoll_wait(epoll_.get(), events.data(), kMaxEvents, timeout);
      if (listener_paused_ && now_ns() >= resume_accepts_at_ns_) watch_listener(true);
      for (int i = 0; i < n; ++i) dispatch(events[static_cast<std::size_t>(i)]);
    }
    connections_.clear();
  }

  [[nodiscard]] const ServerTotals& totals() const { return totals_; }

 private:
  void watch_listener(bool on) {
    epoll_event event{};
    event.events = EPOLLIN | EPOLLEXCLUSIVE;
    event.data.fd = listener_;
    epoll_ctl(epoll_.get(), on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listener_, &event);
    listener_paused_ = !on;
  }

  void dispatch(const epoll_event& event) {
    const int fd = event.data.fd;
    if (fd == stop_fd()) return;
    if (fd == listener_) return accept_all();
    auto found = connections_.find(fd);
    if (found == connections_.end()) return;
    Connection& connection = found->second;
    bool keep = true;
    if (!connection.pending.empty()) {
      if (event.events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) keep = flush(connection);
    } else if (event.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
      keep = on_readable(connection);
    }
    if (!keep) connections_.erase(found);
  }

  void accept_all() {
    for (int accepted = 0; accepted < 1024; ++accepted) {
      const int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of fds: stop polling the (level-triggered) listener for a moment instead of
          // spinning on it; say so once.
          if (totals_.accept_errors++ == 0) {
            std::fprintf(stderr, "loadgen: accept: %s (pausing accepts)\n",
                         errno_text(errno).c_str());
          }
          watch_listener(false);
          resume_accepts_at_ns_ = now_ns() + kPauseAfterEmfileMs * 1'000'000LL;
        }
        return;
      }
      ++totals_.accepted;
      if (mode_ == ServerMode::echo) set_nodelay(fd);
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.fd = fd;
      epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event);
      connections_[fd].fd.reset(fd);
    }
  }

  // One read per wake-up keeps many connections fair. Returns false when the connection ends.
  bool on_readable(Connection& connection) {
    const int fd = connection.fd.get();
    const ssize_t got = recv(fd, buffer_.data(), buffer_.size(), 0);
    if (got == 0) return false;  // peer closed its side: all echoed, so close ours
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) return true;
      ++totals_.connection_errors;
      return false;
    }
    totals_.bytes_in += static_cast<std::uint64_t>(got);
    if (mode_ == ServerMode::sink) return true;
    const ssize_t sent = send(fd, buffer_.data(), static_cast<std::size_t>(got), MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN) {
      ++totals_.connection_errors;
      return false;
    }
    const auto taken = static_cast<std::size_t>(sent < 0 ? 0 : sent);
    totals_.bytes_out += taken;
    if (taken < static_cast<std::size_t>(got)) {
      // Backpressure: keep the rest and stop reading until the peer drains it.
      connection.pending.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(taken),
                                buffer_.begin() + got);
      connection.pending_offset = 0;
      modify(fd, EPOLLOUT);
    }
    return true;
  }

  bool flush(Connection& connection) {
    const int fd = connection.fd.get();
    while (connection.pending_offset < connection.pending.size()) {
      const ssize_t sent =
          send(fd, connection.pending.data() + connection.pending_offset,
               connection.pending.size() - connection.pending_offset, MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EAGAIN || errno == EINTR) return true;
        ++totals_.connection_errors;
        return false;
      }
      connection.pending_offset += static_cast<std::size_t>(sent);
      totals_.bytes_out += static_cast<std::uint64_t>(sent);
    }
    connection.pending.clear();
    connection.pending.shrink_to_fit();  // idle connections should cost no buffer
    connection.pending_offset = 0;
    modify(fd, EPOLLIN);
    return true;
  }

  void modify(int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event);
  }

  int listener_;
  ServerMode mode_;
  Fd epoll_;
  bool listener_paused_ = false;
  std::int64_t resume_accepts_at_ns_ = 0;
  std::vector<unsigned char> buffer_;
  std::unordered_map<int, Connection> connections_;
  ServerTotals totals_;
};

}  // namespace

int run_server(const ServerOptions& options) {
  const int listener = open_listener(options.listen);
  if (listener < 0) {
    return fail("cannot listen on " + options.listen.to_string() + ": " + errno_text(-listener));
  }
  Fd listener_fd(listener);
  const auto bound = local_endpoint(listener);
  const char* mode_name = options.mode == ServerMode::echo ? "echo" : "sink";
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < options.threads; ++i) {
    workers.push_back(std::make_unique<Worker>(listener, options.mode));
  }
  for (auto& worker : workers) threads.emplace_back([&worker] { worker->run(); });
  std::printf("loadgen: listening on %s (%s, %u thread%s)\n",
              bound ? bound->to_string().c_str() : "?", mode_name, options.threads,
              options.threads == 1 ? "" : "s");
  std::fflush(stdout);
  for (auto& thread : threads) thread.join();

  ServerTotals sum;
  for (const auto& worker : workers) {
    sum.accepted += worker->totals().accepted;
    sum.bytes_in += worker->totals().bytes_in;
    sum.bytes_out += worker->totals().bytes_out;
    sum.accept_errors += worker->totals().accept_errors;
    sum.connection_errors += worker->totals().connection_errors;
  }
  if (options.json) {
    print_json({{"mode", "server"},
                {"server_mode", mode_name},
                {"listen", bound ? bound->to_string() : ""},
                {"threads", options.threads},
                {"connections", sum.accepted},
                {"bytes_in", sum.bytes_in},
                {"bytes_out", sum.bytes_out},
                {"accept_errors", sum.accept_errors},
                {"connection_errors", sum.connection_errors}});
  } else {
    std::printf(
        "loadgen: server stopped: %llu connections, %llu bytes in, %llu bytes out, "
        "%llu accept errors, %llu connection errors\n",
        static_cast<unsigned long long>(sum.accepted),
        static_cast<unsigned long long>(sum.bytes_in),
        static_cast<unsigned long long>(sum.bytes_out),
        static_cast<unsigned long long>(sum.accept_errors),
        static_cast<unsigned long long>(sum.connection_errors));
  }
  return 0;
}

}  // namespace loadgen
