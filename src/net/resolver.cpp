// SPDX-License-Identifier: MIT
// Resolver: numeric and localhost answers at once, getaddrinfo on workers, answers via the inbox.
#include "net/resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>
#include <unordered_map>

#include "net/socket.hpp"

namespace ringtunnel::net {

using runtime::Reactor;
using AddressList = std::vector<SocketAddress>;

namespace {

class ResolveCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "resolve"; }
  std::string message(int value) const override { return ::gai_strerror(value); }
};

std::error_code resolve_error(int eai) noexcept { return {eai, resolve_category()}; }

Reactor& current_reactor() {
  Reactor* reactor = Reactor::current();
  RT_ASSERT(reactor != nullptr);  // resolve() must be awaited on a reactor thread
  return *reactor;
}

// Unique across Resolvers, so a late answer from a destroyed Resolver never matches a new lookup.
std::atomic<std::uint64_t> g_next_lookup_id{1};

// An answer travels in CoreMessage::bytes: this header, then the addresses (plain data).
struct AnswerHeader {
  std::int32_t eai;  // 0, an EAI_* code, or EAI_SYSTEM with sys_errno
  std::int32_t sys_errno;
};
static_assert(std::is_trivially_copyable_v<SocketAddress>);

std::vector<std::byte> encode_answer(int eai, int sys_errno, const AddressList& addresses) {
  const AnswerHeader header{eai, sys_errno};
  std::vector<std::byte> bytes(sizeof header + addresses.size() * sizeof(SocketAddress));
  std::memcpy(bytes.data(), &header, sizeof header);
  if (!addresses.empty()) {
    std::memcpy(bytes.data() + sizeof header, addresses.data(),
                addresses.size() * sizeof(SocketAddress));
  }
  return bytes;
}

Result<AddressList> decode_answer(std::span<const std::byte> bytes) {
  AnswerHeader header{};
  RT_ASSERT(bytes.size() >= sizeof header);
  std::memcpy(&header, bytes.data(), sizeof header);
  if (header.eai == EAI_SYSTEM) return errno_code(header.sys_errno);
  if (header.eai != 0) return resolve_error(header.eai);
  AddressList addresses((bytes.size() - sizeof header) / sizeof(SocketAddress));
  std::memcpy(addresses.data(), bytes.data() + sizeof header,
              addresses.size() * sizeof(SocketAddress));
  return addresses;
}

// The blocking part, on a worker thread.
std::vector<std::byte> look_up(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* list = nullptr;
  const auto fake = Resolver::test_getaddrinfo.load();
  const auto getaddrinfo = fake != nullptr ? fake : &::getaddrinfo;
  if (const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list); rc != 0) {
    return encode_answer(rc, rc == EAI_SYSTEM ? errno : 0, {});
  }
  AddressList addresses;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    auto address = SocketAddress::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
    if (!address) continue;
    address->set_port(port);
    if (std::find(addresses.begin(), addresses.end(), *address) == addresses.end()) {
      addresses.push_back(*address);
    }
  }
  ::freeaddrinfo(list);
  return encode_answer(addresses.empty() ? EAI_NONAME : 0, 0, addresses);
}

bool is_localhost(std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  return host.size() == 9 && std::equal(host.begin(), host.end(), "localhost", [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

std::optional<SocketAddress> numeric_ipv6(std::string_view inside) {
  // SocketAddress::parse understands scopes (`fe80::1%lo`); it wants brackets and a port.
  auto address = SocketAddress::parse("[" + std::string(inside) + "]:0");
  if (!address) return std::nullopt;
  return *address;
}

// Hosts answered without a worker: numbers and localhost. nullopt means "look it up".
std::optional<Result<AddressList>> answer_at_once(const std::string& host, std::uint16_t port) {
  if (host.empty()) return resolve_error(EAI_NONAME);
  if (is_localhost(host))
    return AddressList{SocketAddress::loopback_v4(port), SocketAddress::loopback_v6(port)};
  std::optional<SocketAddress> address;
  if (in_addr v4{}; ::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    address = SocketAddress::ipv4(ntohl(v4.s_addr), port);
  } else if (host.front() == '[' || host.find(':') != std::string::npos) {
    const bool bracketed = host.front() == '[' && host.back() == ']';
    address = numeric_ipv6(bracketed ? std::string_view(host).substr(1, host.size() - 2) : host);
    if (!address) return resolve_error(EAI_NONAME);  // no host name has a ':' or '['
  } else if (in_addr legacy{}; ::inet_aton(host.c_str(), &legacy) != 0) {
    return resolve_error(EAI_NONAME);  // "1.2.3", "0x7f.1", "010.0.0.1": refused, not guessed
  }
  if (!address) return std::nullopt;
  address->set_port(port);
  return AddressList{*address};
}

}  // namespace

namespace detail {

/// One lookup, shared by the reactor that awaits it and the queue/worker that answers it. Each
/// side holds a reference; whichever lets go last frees it. The mutex makes "post the answer" and
/// "the awaiter gave up" exclusive, so once abandon() returns no worker touches the reactor again.
class Lookup {
 public:
  Lookup(std::string name, std::uint16_t port_number, Reactor& asker)
      : id(g_next_lookup_id.fetch_add(1, std::memory_order_relaxed)),
        host(std::move(name)),
        port(port_number),
        reactor(asker) {}

  const std::uint64_t id;
  const std::string host;
  const std::uint16_t port;
  Reactor& reactor;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  bool abandoned() {
    std::lock_guard lock(mutex_);
    return abandoned_;
  }
  void abandon() {
    std::lock_guard lock(mutex_);
    abandoned_ = true;
  }
  /// From a worker or ~Resolver: hands `answer` to the reactor unless the awaiter gave up.
  void deliver(std::vector<std::byte> answer);

 private:
  std::atomic<int> refs_{1};
  std::mutex mutex_;
  bool abandoned_ = false;  // guarded by mutex_
};

/// Lives in the resolve() coroutine's frame on the asking reactor; waits for the answer message,
/// the deadline or the cancellation, whichever comes first, and resumes the coroutine once.
class LookupAwaiter {
 public:
  LookupAwaiter(Resolver& resolver, std::string host, std::uint16_t port,
                runtime::OpOptions options);
  ~LookupAwaiter();
  LookupAwaiter(const LookupAwaiter&) = delete;
  LookupAwaiter& operator=(const LookupAwaiter&) = delete;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> waiter);
  Result<AddressList> await_resume() { return std::move(*result_); }

  static void answered(Reactor& reactor, runtime::CoreMessage& message);

 private:
  static void deadline_passed(runtime::Timer& timer);
  static void cancel_requested(void* self);
  void stop_waiting() noexcept;
  void give_up(int err);

  // Reactor-thread only: the lookups this thread's reactor waits for, by id.
  static inline thread_local std::unordered_map<std::uint64_t, LookupAwaiter*> t_waiting;

  Resolver& resolver_;  // used only in await_suspend: ~Resolver may come while we wait
  Reactor& reactor_;
  Lookup* lookup_;  // one reference, released by the destructor
  runtime::OpOptions options_;
  runtime::Timer deadline_;
  std::coroutine_handle<> waiter_;
  std::optional<Result<AddressList>> result_;
  bool waiting_ = false;
};

void Lookup::deliver(std::vector<std::byte> answer) {
  std::lock_guard lock(mutex_);
  if (abandoned_) return;
  runtime::CoreMessage message;
  message.handler = &LookupAwaiter::answered;
  message.bytes = std::move(answer);
  message.arg = id;
  reactor.post_from_any_thread(std::move(message));
}

LookupAwaiter::LookupAwaiter(Resolver& resolver, std::string host, std::uint16_t port,
                             runtime::OpOptions options)
    : resolver_(resolver),
      reactor_(current_reactor()),
      lookup_(new Lookup(std::move(host), port, reactor_)),
      options_(options) {
  deadline_.on_fire = &LookupAwaiter::deadline_passed;
  deadline_.context = this;
}

LookupAwaiter::~LookupAwaiter() {
  if (waiting_) {  // the frame is destroyed while suspended: make sure no answer comes
    stop_waiting();
    lookup_->abandon();
  }
  lookup_->release();
}

bool LookupAwaiter::await_suspend(std::coroutine_handle<> waiter) {
  if (const std::error_code refused = resolver_.enqueue(*lookup_)) {
    result_ = refused;
    return false;
  }
  // Registering after queueing is safe: the answer is handled on this thread, later.
  waiter_ = waiter;
  waiting_ = true;
  t_waiting.emplace(lookup_->id, this);
  deadline_.deadline = runtime::Clock::now() + options_.timeout.value_or(Resolver::kDefaultTimeout);
  reactor_.timers().add(deadline_);
  if (options_.cancellation) options_.cancellation->attach(&LookupAwaiter::cancel_requested, this);
  return true;
}

void LookupAwaiter::stop_waiting() noexcept {
  t_waiting.erase(lookup_->id);
  reactor_.timers().remove(deadline_);
  if (options_.cancellation) options_.cancellation->detach(this);
  waiting_ = false;
}

void LookupAwaiter::answered(Reactor& reactor, runtime::CoreMessage& message) {
  const auto it = t_waiting.find(message.arg);
  if (it == t_waiting.end()) return;  // the awaiter gave up after the worker posted
  LookupAwaiter& self = *it->second;
  RT_DCHECK(&self.reactor_ == &reactor);
  self.stop_waiting();
  self.result_ = decode_answer(message.bytes);
  reactor.resume(self.waiter_);
}

void LookupAwaiter::give_up(int err) {
  stop_waiting();
  lookup_->abandon();
  result_ = errno_code(err);
}

void LookupAwaiter::deadline_passed(runtime::Timer& timer) {
  auto& self = *static_cast<LookupAwaiter*>(timer.context);
  self.give_up(ETIMEDOUT);
  self.reactor_.resume(self.waiter_);
}

void LookupAwaiter::cancel_requested(void* target) {
  // Through the ready queue: cancel() may be called from deep inside another coroutine.
  auto& self = *static_cast<LookupAwaiter*>(target);
  self.give_up(ECANCELED);
  self.reactor_.schedule(self.waiter_);
}

}  // namespace detail

const std::error_category& resolve_category() noexcept {
  static const ResolveCategory category;
  return category;
}

std::string resolve_error_text(std::string_view host, std::error_code error) {
  return "cannot resolve '" + std::string(host) + "': " + error.message();
}

Resolver::Resolver(unsigned worker_threads, std::size_t max_queued) : max_queued_(max_queued) {
  // Workers inherit the creator's signal mask: block everything while creating them, so a
  // process signal (SIGTERM) is never delivered to a worker but to the reactors' signalfd.
  sigset_t all;
  sigset_t previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  try {
    for (unsigned i = 0; i < std::max(worker_threads, 1U); ++i) {
      workers_.emplace_back([this] { worker_main(); });
    }
  } catch (...) {  // no destructor runs for a half-built Resolver: stop what did start
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    stop_and_join();
    throw;
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

Resolver::~Resolver() { stop_and_join(); }

void Resolver::stop_and_join() {
  std::deque<detail::Lookup*> queued;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queued.swap(queue_);
  }
  work_ready_.notify_all();
  for (detail::Lookup* lookup : queued) {
    lookup->deliver(encode_answer(EAI_SYSTEM, ECANCELED, {}));
    lookup->release();
  }
  for (std::thread& worker : workers_) worker.join();
}

std::error_code Resolver::enqueue(detail::Lookup& lookup) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return errno_code(ECANCELED);
    if (queue_.size() >= max_queued_) return errno_code(EAGAIN);
    lookup.add_ref();
    queue_.push_back(&lookup);
  }
  work_ready_.notify_one();
  return {};
}

void Resolver::worker_main() {
  for (;;) {
    detail::Lookup* lookup = nullptr;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;  // ~Resolver took what was queued
      lookup = queue_.front();
      queue_.pop_front();
    }
    if (!lookup->abandoned()) lookup->deliver(look_up(lookup->host, lookup->port));
    lookup->release();
  }
}

runtime::Task<Result<AddressList>> Resolver::resolve(std::string host, std::uint16_t port,
                                                     runtime::OpOptions options) {
  if (options.cancellation && options.cancellation->cancelled()) co_return errno_code(ECANCELED);
  if (auto at_once = answer_at_once(host, port)) co_return std::move(*at_once);
  detail::LookupAwaiter lookup(*this, std::move(host), port, options);
  co_return co_await lookup;
}

runtime::Task<Result<std::pair<UniqueFd, SocketAddress>>> connect_first(
    std::vector<SocketAddress> addresses, runtime::OpOptions per_attempt) {
  std::error_code last = errno_code(EINVAL);
  for (const SocketAddress& address : addresses) {
    auto socket = tcp_socket(address.family());
    if (!socket) {
      last = socket.error();
      continue;
    }
    auto connected = co_await runtime::connect(socket->get(), address, per_attempt);
    if (connected) co_return std::pair{std::move(*socket), address};
    last = connected.error();
    if (last == std::errc::operation_canceled) break;
  }
  co_return last;
}

}  // namespace ringtunnel::net
