// SPDX-License-Identifier: MIT
// Acceptor: a multishot accept on a listening socket, consumed one connection per co_await.
#pragma once

#include <coroutine>
#include <deque>

#include "net/unique_fd.hpp"
#include "runtime/reactor.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::runtime {

/// Keeps one multishot accept armed on `listen_fd` (not owned) while someone is accepting, and
/// queues connections that arrive in bursts. Create, use and destroy it on one reactor thread.
/// Destroying it cancels the accept; connections already queued are closed.
///
/// Errors such as EMFILE end the kernel's multishot; they are returned once from accept() and the
/// next accept() re-arms, so callers should pause briefly after an error instead of spinning.
class Acceptor {
 public:
  explicit Acceptor(int listen_fd);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  class Awaiter {
   public:
    explicit Awaiter(Acceptor& acceptor) : acceptor_(acceptor) {}
    bool await_ready() const noexcept;
    void await_suspend(std::coroutine_handle<> h);
    Result<net::UniqueFd> await_resume();

   private:
    Acceptor& acceptor_;
  };

  /// The next accepted connection (nonblocking, close-on-exec), or an error.
  Awaiter accept() { return Awaiter(*this); }
  /// Ends a pending accept() with ECANCELED and stops accepting.
  void stop();

 private:
  struct State;  // outlives the Acceptor until the kernel's last completion
  State* state_;
};

}  // namespace ringtunnel::runtime
