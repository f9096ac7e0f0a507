// SPDX-License-Identifier: MIT
// loadgen verify: N concurrent connections each send a seeded random payload while reading the
// echo (nonblocking, so large payloads cannot deadlock), half-close, and check length, content
// (first differing offset) and FNV-1a hash of the echo, and that the peer then closes.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <vector>

#include "loadgen_commands.hpp"
#include "loadgen_util.hpp"

namespace loadgen {
namespace {

constexpr std::size_t kIoSize = 64 * 1024;
constexpr std::size_t kMaxReportedFailures = 20;

enum class VerifyState { not_started, connecting, open, ok, failed };

struct Check {
  Fd fd;
  VerifyState state = VerifyState::not_started;
  std::uint64_t seed = 0;
  std::uint64_t length = 0;
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::int64_t first_mismatch = -1;
  bool write_closed = false;
  Fnv1a64 sent_hash;
  Fnv1a64 echo_hash;
  std::string error;
};

class Verifier {
 public:
  explicit Verifier(const VerifyOptions& options)
      : options_(options),
        checks_(options.connections),
        out_(kIoSize),
        in_(kIoSize),
        expected_(kIoSize) {
    const std::uint64_t span = options.max_bytes - options.min_bytes + 1;
    for (std::size_t i = 0; i < checks_.size(); ++i) {
      checks_[i].seed = splitmix64(options.seed * 0x9e3779b97f4a7c15ULL + i);
      checks_[i].length = options.min_bytes + splitmix64(checks_[i].seed ^ 0x6c656eULL) % span;
    }
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    watch(stop_fd(), EPOLLIN, checks_.size(), EPOLL_CTL_ADD);
  }

  /// Runs until every connection is decided, the deadline passes, or a stop signal arrives.
  void run(std::int64_t deadline) {
    std::vector<epoll_event> events(512);
    while (decided_ < checks_.size() && !stop_requested() && now_ns() < deadline) {
      start_more();
      const int n = epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), 100);
      for (int e = 0; e < n; ++e) {
        const auto& event = events[static_cast<std::size_t>(e)];
        if (event.data.u64 < checks_.size()) step(event.data.u64, event.events);
      }
    }
    const std::string why = stop_requested() ? "interrupted" : "timed out";
    for (auto& check : checks_) {
      if (check.state == VerifyState::ok || check.state == VerifyState::failed) continue;
      check.state = VerifyState::failed;
      check.error = why + " after sending " + std::to_string(check.sent) + " and receiving " +
                    std::to_string(check.received) + " of " + std::to_string(check.length) +
                    " bytes" + (check.write_closed ? " (half-closed, peer did not close)" : "");
    }
  }

  [[nodiscard]] const std::vector<Check>& checks() const { return checks_; }

 private:
  void watch(int fd, std::uint32_t events, std::uint64_t index, int op) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = index;
    epoll_ctl(epoll_.get(), op, fd, &event);
  }

  void start_more() {
    while (connecting_ < options_.connect_window && next_ < checks_.size()) {
      Check& check = checks_[next_];
      const int fd = start_connect(options_.connect);
      if (fd < 0) {
        decide(check, "connect: " + errno_text(-fd));
      } else {
        check.fd.reset(fd);
        check.state = VerifyState::connecting;
        watch(fd, EPOLLOUT, next_, EPOLL_CTL_ADD);
        ++connecting_;
      }
      ++next_;
    }
  }

  void decide(Check& check, std::string error) {
    check.state = error.empty() ? VerifyState::ok : VerifyState::failed;
    check.error = std::move(error);
    if (check.fd.valid()) epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, check.fd.get(), nullptr);
    check.fd.reset();
    ++decided_;
  }

  void step(std::size_t index, std::uint32_t events) {
    Check& check = checks_[index];
    if (check.state == VerifyState::connecting) {
      --connecting_;
      if (const int err = connect_result(check.fd.get()); err != 0) {
        return decide(check, "connect to " + options_.connect.to_string() + ": " + errno_text(err));
      }
      check.state = VerifyState::open;
      watch(check.fd.get(), EPOLLIN | EPOLLOUT, index, EPOLL_CTL_MOD);
      events = EPOLLOUT;
    }
    if (check.state != VerifyState::open) return;
    if ((events & EPOLLOUT) && !check.write_closed && !send_some(check, index)) return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive_some(check);
  }

  // Returns false if the connection was decided (failed).
  bool send_some(Check& check, std::size_t index) {
    while (check.sent < check.length) {
      const std::size_t size = std::min<std::uint64_t>(kIoSize, check.length - check.sent);
      fill_payload(check.seed, check.sent, out_.data(), size);
      const ssize_t n = send(check.fd.get(), out_.data(), size, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) return true;
        decide(check, "send at byte " + std::to_string(check.sent) + ": " + errno_text(errno));
        return false;
      }
      check.sent_hash.update(out_.data(), static_cast<std::size_t>(n));
      check.sent += static_cast<std::uint64_t>(n);
    }
    shutdown(check.fd.get(), SHUT_WR);
    check.write_closed = true;
    watch(check.fd.get(), EPOLLIN, index, EPOLL_CTL_MOD);
    return true;
  }

  void receive_some(Check& check) {
    for (;;) {
      const ssize_t n = recv(check.fd.get(), in_.data(), in_.size(), 0);
      if (n == 0) return finish(check);
      if (n < 0) {
        if (errno == EAGAIN) return;
        return decide(check, "recv after " + std::to_string(check.received) +
                                 " echoed bytes: " + errno_text(errno));
      }
      const auto size = static_cast<std::size_t>(n);
      if (check.received + size > check.length) {
        return decide(
            check, "the echo is longer than the " + std::to_string(check.length) + " bytes sent");
      }
      check.echo_hash.update(in_.data(), size);
      if (check.first_mismatch < 0) {
        fill_payload(check.seed, check.received, expected_.data(), size);
        const auto diff = std::mismatch(in_.begin(), in_.begin() + n, expected_.begin());
        if (diff.first != in_.begin() + n) {
          check.first_mismatch =
              static_cast<std::int64_t>(check.received) + (diff.first - in_.begin());
        }
      }
      check.received += size;
    }
  }

  void finish(Check& check) {
    const std::string progress =
        std::to_string(check.received) + " of " + std::to_string(check.length) + " bytes echoed";
    if (!check.write_closed) return decide(check, "the peer closed while sending; " + progress);
    if (check.received != check.length) return decide(check, "length mismatch: " + progress);
    if (check.first_mismatch >= 0 || check.echo_hash.value() != check.sent_hash.value()) {
      char text[128];
      std::snprintf(text, sizeof text,
                    "content mismatch: first differing byte at offset %lld, "
                    "hash sent %016llx echoed %016llx",
                    static_cast<long long>(check.first_mismatch),
                    static_cast<unsigned long long>(check.sent_hash.value()),
                    static_cast<unsigned long long>(check.echo_hash.value()));
      return decide(check, text);
    }
    decide(check, "");
  }

  const VerifyOptions& options_;
  std::vector<Check> checks_;
  Fd epoll_;
  std::vector<unsigned char> out_;
  std::vector<unsigned char> in_;
  std::vector<unsigned char> expected_;
  std::size_t next_ = 0;
  std::size_t connecting_ = 0;
  std::size_t decided_ = 0;
};

}  // namespace

int run_verify(const VerifyOptions& options) {
  if (options.min_bytes > options.max_bytes) {
    return fail("--min-bytes must not exceed --max-bytes", kExitUsage);
  }
  const std::int64_t start = now_ns();
  Verifier verifier(options);
  verifier.run(start + static_cast<std::int64_t>(options.timeout * 1e9));
  const double elapsed = static_cast<double>(now_ns() - start) / 1e9;

  std::size_t ok = 0;
  std::uint64_t total = 0;
  nlohmann::json failures = nlohmann::json::array();
  const auto& checks = verifier.checks();
  for (std::size_t i = 0; i < checks.size(); ++i) {
    if (checks[i].state == VerifyState::ok) {
      ++ok;
      total += checks[i].length;
      continue;
    }
    if (failures.size() < kMaxReportedFailures) {
      std::fprintf(stderr, "verify: connection %zu (%llu bytes): %s\n", i,
                   static_cast<unsigned long long>(checks[i].length), checks[i].error.c_str());
    }
    failures.push_back(
        {{"connection", i}, {"length", checks[i].length}, {"error", checks[i].error}});
  }
  if (failures.size() > kMaxReportedFailures) {
    std::fprintf(stderr, "verify: ... and %zu more failed connections\n",
                 failures.size() - kMaxReportedFailures);
  }
  if (options.json) {
    print_json({{"mode", "verify"},
                {"connect", options.connect.to_string()},
                {"connections", checks.size()},
                {"ok", ok},
                {"bytes", total},
                {"seconds", elapsed},
                {"seed", options.seed},
                {"min_bytes", options.min_bytes},
                {"max_bytes", options.max_bytes},
                {"failures", failures}});
  } else {
    std::printf("verify: %zu/%zu connections ok, %llu bytes in %.3f s\n", ok, checks.size(),
                static_cast<unsigned long long>(total), elapsed);
  }
  return ok == checks.size() ? 0 : kExitFailed;
}

}  // namespace loadgen
