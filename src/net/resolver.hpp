// SPDX-License-Identifier: MIT
// Resolver: host names to TCP addresses on worker threads, awaited from a reactor; connect_first.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "net/socket_address.hpp"
#include "net/unique_fd.hpp"
#include "runtime/io.hpp"
#include "runtime/result.hpp"
#include "runtime/task.hpp"

struct addrinfo;

namespace ringtunnel::net {

namespace detail {
class Lookup;
class LookupAwaiter;
}  // namespace detail

/// Host names to addresses without blocking a reactor. getaddrinfo() blocks, so it runs on the
/// Resolver's own worker threads; the answer comes back to the reactor that asked through
/// Reactor::post_from_any_thread().
///
/// Lifetime (the caller's contract): workers post answers to the reactors that asked, so every
/// reactor that called resolve() must still exist when the Resolver is destroyed, unless every
/// lookup it started has ended (its co_await returned, or its coroutine frame was destroyed).
/// The simple rule: construct the Resolver before Engine::start() and destroy it after
/// Engine::join() but before the Engine. Answers that reach a reactor whose loop has stopped
/// wait in its inbox and are destroyed unrun with it; they own nothing but their bytes.
///
/// Threads: resolve() on reactor threads (any number, concurrently); construction and
/// destruction on any one thread, which the destructor blocks (see there).
class Resolver {
 public:
  static constexpr std::size_t kMaxQueued = 1024;
  static constexpr auto kDefaultTimeout = std::chrono::seconds(10);

  /// Starts `worker_threads` workers (at least 1). At most `max_queued` lookups wait for a
  /// worker; beyond that resolve() fails at once with EAGAIN.
  explicit Resolver(unsigned worker_threads = 2, std::size_t max_queued = kMaxQueued);
  /// Stops and joins the workers. getaddrinfo() cannot be interrupted: a worker in the middle of
  /// a lookup finishes it (as long as the system resolver's own timeouts allow, a few seconds
  /// with a dead DNS server) and delivers its answer. Lookups still queued are completed with
  /// ECANCELED, delivered to their reactors, without being looked up.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  /// On a reactor thread: every TCP address for host:port, each with `port` set.
  /// - numeric IPv4 (strict dotted quad) / IPv6 (with or without brackets, scoped `fe80::1%lo`
  ///   too): that address, at once, no thread hop;
  /// - "localhost" (any case, optional trailing dot): 127.0.0.1 then ::1, at once;
  /// - anything else: getaddrinfo(AI_ADDRCONFIG, SOCK_STREAM) on a worker, the answer delivered
  ///   back on the calling reactor, in getaddrinfo's order, duplicates removed.
  /// Errors: a resolve_category() code carrying the EAI_* value (EAI_SYSTEM arrives as its
  /// generic errno; resolve_error_text() phrases either with the host); ECANCELED when
  /// options.cancellation fires or the Resolver is destroyed first; ETIMEDOUT after
  /// options.timeout (kDefaultTimeout if none); EAGAIN when the queue is full.
  /// The coroutine is resumed exactly once; a late answer from a worker is dropped.
  runtime::Task<Result<std::vector<SocketAddress>>> resolve(std::string host, std::uint16_t port,
                                                            runtime::OpOptions options = {});

  /// TEST ONLY: when set, workers call this instead of ::getaddrinfo (same contract: a list that
  /// ::freeaddrinfo frees, i.e. one from the real getaddrinfo, or an EAI_* code), so a test can
  /// hold a lookup until it lets it go, or fail it, without a network. Set it before the lookups
  /// it is meant for are queued and reset it to nullptr after the Resolver is destroyed.
  using GetAddrInfoFn = int (*)(const char* host, const char* service, const ::addrinfo* hints,
                                ::addrinfo** result);
  static inline std::atomic<GetAddrInfoFn> test_getaddrinfo{nullptr};

 private:
  friend class detail::LookupAwaiter;
  /// Queues `lookup` for a worker (taking a reference). ECANCELED once stopping, EAGAIN when full.
  std::error_code enqueue(detail::Lookup& lookup);
  void worker_main();
  /// ~Resolver's work: stop, cancel what is queued, join the workers.
  void stop_and_join();

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<detail::Lookup*> queue_;  // guarded by mutex_; each entry holds a reference
  bool stopping_ = false;              // guarded by mutex_
  std::size_t max_queued_;
  std::vector<std::thread> workers_;
};

/// The category of getaddrinfo() failures: values are EAI_* codes, message() is gai_strerror().
const std::error_category& resolve_category() noexcept;

/// One sentence naming the host, e.g. "cannot resolve 'x.invalid': Name or service not known".
std::string resolve_error_text(std::string_view host, std::error_code error);

/// On a reactor thread: tries `addresses` in order (each a nonblocking TCP connect on the current
/// reactor with per_attempt's timeout and cancellation) and returns the first connected socket
/// and its address. Errors: the last attempt's error (ECONNREFUSED, ETIMEDOUT, ...); EINVAL for
/// an empty list; ECANCELED stops at once.
runtime::Task<Result<std::pair<UniqueFd, SocketAddress>>> connect_first(
    std::vector<SocketAddress> addresses, runtime::OpOptions per_attempt);

}  // namespace ringtunnel::net
