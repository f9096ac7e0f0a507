// SPDX-License-Identifier: MIT
// net::Resolver and connect_first on both backends: numbers, localhost, lookups, lifetimes.
#include "net/resolver.hpp"

#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/socket.hpp"
#include "reactor_fixture.hpp"
#include "runtime/cancellation.hpp"

using namespace ringtunnel;
using namespace std::chrono_literals;
using net::Resolver;
using net::SocketAddress;
using AddressResult = Result<std::vector<SocketAddress>>;

namespace {

// The fake getaddrinfo: hosts starting with "held" wait for the gate, then (like "dup")
// answer 127.0.0.1 three times over (no socket type: one entry per type), to test dedup.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool open = true;
  int held = 0;   // lookups that reached the gate
  int calls = 0;  // every call of the fake
};
Gate g_gate;

int fake_getaddrinfo(const char* host, const char* service, const addrinfo* hints, addrinfo** out) {
  const std::string name(host);
  const bool canned = name.starts_with("held") || name.starts_with("dup");
  {
    std::unique_lock lock(g_gate.mutex);
    ++g_gate.calls;
    if (name.starts_with("held")) {
      ++g_gate.held;
      g_gate.changed.notify_all();
      g_gate.changed.wait(lock, [] { return g_gate.open; });
    }
  }
  if (!canned) return ::getaddrinfo(host, service, hints, out);
  addrinfo any{};
  any.ai_flags = AI_NUMERICHOST;
  return ::getaddrinfo("127.0.0.1", service, &any, out);
}

void set_gate(bool open) {
  std::lock_guard lock(g_gate.mutex);
  g_gate.open = open;
  g_gate.changed.notify_all();
}
int gate_calls() {
  std::lock_guard lock(g_gate.mutex);
  return g_gate.calls;
}
int gate_held() {
  std::lock_guard lock(g_gate.mutex);
  return g_gate.held;
}

// Installs the fake for one test (declare it before the Resolver, so it is removed after the
// workers are joined).
struct FakeLookups {
  FakeLookups() {
    {
      std::lock_guard lock(g_gate.mutex);
      g_gate.open = true;
      g_gate.held = 0;
      g_gate.calls = 0;
    }
    Resolver::test_getaddrinfo = &fake_getaddrinfo;
  }
  ~FakeLookups() { Resolver::test_getaddrinfo = nullptr; }
};
// Declared after the Resolver: opens the gate even when a REQUIRE fails, so ~Resolver can join.
struct OpenGateOnExit {
  ~OpenGateOnExit() { set_gate(true); }
};

runtime::Task<void> resolve_into(Resolver& resolver, std::string host,
                                 std::optional<AddressResult>& out, runtime::OpOptions options) {
  out.emplace(co_await resolver.resolve(std::move(host), 80, options));
}

void run_until_held(runtime::Reactor& reactor, int count) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (gate_held() < count && std::chrono::steady_clock::now() < deadline) {
    reactor.run_once(1ms);
  }
  REQUIRE(gate_held() == count);
}

void run_until_done(runtime::Reactor& reactor,
                    const std::vector<std::optional<AddressResult>>& all) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto done = [&] {
    return std::all_of(all.begin(), all.end(), [](auto& r) { return r.has_value(); });
  };
  while (!done() && std::chrono::steady_clock::now() < deadline) reactor.run_once(10ms);
  REQUIRE(done());
}

std::vector<std::string> texts(const std::vector<SocketAddress>& addresses) {
  std::vector<std::string> out;
  for (const auto& a : addresses) out.push_back(a.to_string());
  return out;
}

bool skip_without(runtime::BackendChoice backend) {
  std::string why;
  if (backend != runtime::BackendChoice::io_uring || runtime::io_uring_available(&why))
    return false;
  WARN("io_uring unavailable, skipped: " << why);
  return true;
}

// The first /etc/hosts name that is not localhost, with its address; nullopt when none.
std::optional<std::pair<std::string, std::string>> hosts_file_entry() {
  std::ifstream file("/etc/hosts");
  std::string line;
  while (std::getline(file, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string address;
    std::string name;
    if (!(words >> address)) continue;
    while (words >> name) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      if (!lower.starts_with("localhost")) return std::pair{name, address};
    }
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("numbers and localhost resolve at once, without a worker", "[resolver]") {
  auto backend = testing::each_backend();
  if (skip_without(backend)) return;
  FakeLookups fake;
  testing::ReactorFixture fx(backend);
  Resolver resolver(1);
  auto& r = *fx.reactor;
  auto one = [&](std::string host, std::uint16_t port) {
    auto result = testing::run(r, resolver.resolve(std::move(host), port));
    REQUIRE(result.ok());
    return texts(*result);
  };
  CHECK(one("192.0.2.7", 80) == std::vector<std::string>{"192.0.2.7:80"});
  CHECK(one("2001:db8::1", 443) == std::vector<std::string>{"[2001:db8::1]:443"});
  CHECK(one("[2001:db8::1]", 443) == std::vector<std::string>{"[2001:db8::1]:443"});
  CHECK(one("localhost", 9) == std::vector<std::string>{"127.0.0.1:9", "[::1]:9"});
  CHECK(one("LOCALHOST.", 9) == std::vector<std::string>{"127.0.0.1:9", "[::1]:9"});
  for (const char* bad : {"1.2.3", "0x7f.1", "[not-v6]", "1:2:3", ""}) {
    INFO(bad);
    auto result = testing::run(r, resolver.resolve(bad, 80));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().category() == net::resolve_category());
  }
  CHECK(gate_calls() == 0);
}

TEST_CASE("a name from /etc/hosts resolves on a worker", "[resolver]") {
  auto backend = testing::each_backend();
  if (skip_without(backend)) return;
  const auto entry = hosts_file_entry();
  if (!entry) {
    WARN("no non-localhost name in /etc/hosts: skipped");
    return;
  }
  testing::ReactorFixture fx(backend);
  Resolver resolver;
  auto result = testing::run(*fx.reactor, resolver.resolve(entry->first, 8080));
  if (!result.ok()) {  // e.g. AI_ADDRCONFIG hides the family of that entry on this host
    WARN(net::resolve_error_text(entry->first, result.error()) << ": skipped");
    return;
  }
  auto expected = SocketAddress::parse(entry->second.find(':') == std::string::npos
                                           ? entry->second + ":8080"
                                           : "[" + entry->second + "]:8080");
  REQUIRE(expected.ok());
  const auto& got = *result;
  CHECK(std::find(got.begin(), got.end(), *expected) != got.end());
}

TEST_CASE("an unknown name fails with the resolve category, naming the host", "[resolver]") {
  auto backend = testing::each_backend();
  if (skip_without(backend)) return;
  testing::ReactorFixture fx(backend);
  Resolver resolver;
  auto result = testing::run(*fx.reactor, resolver.resolve("nonexistent.invalid", 80));
  REQUIRE_FALSE(result.ok());
  const std::string text = net::resolve_error_text("nonexistent.invalid", result.error());
  INFO(text);
  CHECK(text.find("cannot resolve 'nonexistent.invalid': ") == 0);
  CHECK(text.size() > std::string("cannot resolve 'nonexistent.invalid': ").size());
}

TEST_CASE("answers are deduplicated", "[resolver]") {
  auto backend = testing::each_backend();
  if (skip_without(backend)) return;
  FakeLookups fake;
  testing::ReactorFixture fx(backend);
  Resolver resolver;
  auto result = testing::run(*fx.reactor, resolver.resolve("dup.example", 7));
  REQUIRE(result.ok());
  CHECK(texts(*result) == std::vector<std::string>{"127.0.0.1:7"});
}

TEST_CASE("cancelling a lookup in flight resumes with ECANCELED; the late answer is dropped",
          "[resolver]") {
  auto backend = testing::each_backend();
  if (skip_without(backend)) return;
  FakeLookups fake;
  testing::ReactorFixture fx(backend);
  auto resolver = std::make_unique<Resolver>(1);
  OpenGateOnExit opener;
  set_gate(false);
  runtime::Cancellation cancel;
  std::vector<std::optional<AddressResult>> results(1);
  runtime::spawn(resolve_into(*resolver, "held.example", results[0], {.cancellation = &cancel}));
  run_until_held(*fx.reactor, 1);  // the worker is inside getaddrinfo
  cancel.cancel();
  run_until_done(*fx.reactor, results);
  CHECK(results[0]->error() == std::errc::operation_canceled);
  set_gate(true);
  resolver.reset();  // joins the worker, which drops the answer nobody waits for
  for (int i = 0; i < 5; ++i) fx.reactor->run_once(1ms);
  CHECK(results[0]->error() == std::errc::operation_canceled);
}

TEST_CASE("an answer posted after the awaiter gave up is dropped on arrival", "[resolver]") {
  auto backend = testing::each_backend();
  if (skip_without(backend)) return;
  FakeLookups fake;
  testing::ReactorFixture fx(backend);
  auto resolver = std::make_unique<Resolver>(1);
  OpenGateOnExit opener;
  set_gate(false);
  runtime::Cancellation cancel;
  std::vector<std::optional<AddressResult>> results(1);
  runtime::spawn(resolve_into(*resolver, "held.example", results[0], {.cancellation = &cancel}));
  run_until_held(*fx.reactor, 1);
  set_gate(true);
  resolver.reset();  // the worker has posted its answer: it waits in the reactor's inbox
  cancel.cancel();   // before the reactor runs another turn
  run_until_done(*fx.reactor, results);
  for (int i = 0; i < 5; ++i) fx.reactor->run_once(1ms);
  CHECK(results[0]->error() == std::errc::operation_canceled);
}

TEST_CASE("a lookup that takes too long ends with ETIMEDOUT", "[resolver]") {
  auto backend = testing::each_backend();
  if (skip_without(backend)) return;
  FakeLookups fake;
  testing::ReactorFixture fx(backend);
  Resolver resolver(1);
  OpenGateOnExit opener;
  set_gate(false);
  std::vector<std::optional<AddressResult>> results(1);
  runtime::spawn(resolve_into(resolver, "held.example", results[0], {.timeout = 30ms}));
  run_until_done(*fx.reactor, results);
  CHECK(results[0]->error() == std::errc::timed_out);
}

TEST_CASE("a full queue fails fast with EAGAIN", "[resolver]") {
  auto backend = testing::each_backend();
  if (skip_without(backend)) return;
  FakeLookups fake;
  testing::ReactorFixture fx(backend);
  Resolver resolver(1, 2);
  OpenGateOnExit opener;
  set_gate(false);
  std::vector<std::optional<AddressResult>> results(4);
  runtime::spawn(resolve_into(resolver, "held.0", results[0], {}));
  run_until_held(*fx.reactor, 1);  // one in the worker, then two queued, then no room
  for (std::size_t i = 1; i < results.size(); ++i) {
    runtime::spawn(resolve_into(resolver, "held." + std::to_string(i), results[i], {}));
  }
  REQUIRE(results[3].has_value());
  CHECK(results[3]->error() == std::errc::resource_unavailable_try_again);
  set_gate(true);
  run_until_done(*fx.reactor, results);
  for (std::size_t i = 0; i < 3; ++i) {
    REQUIRE(results[i]->ok());
    CHECK(texts(results[i]->value()) == std::vector<std::string>{"127.0.0.1:80"});
  }
}

TEST_CASE("destroying the Resolver cancels queued lookups; the running one finishes",
          "[resolver]") {
  auto backend = testing::each_backend();
  if (skip_without(backend)) return;
  FakeLookups fake;
  testing::ReactorFixture fx(backend);
  auto resolver = std::make_unique<Resolver>(1);
  OpenGateOnExit opener;
  set_gate(false);
  std::vector<std::optional<AddressResult>> results(4);
  for (std::size_t i = 0; i < results.size(); ++i) {
    runtime::spawn(resolve_into(*resolver, "held." + std::to_string(i), results[i], {}));
  }
  run_until_held(*fx.reactor, 1);
  // ~Resolver joins the worker held in getaddrinfo: let it go a little later, from elsewhere.
  std::thread opener_thread([] {
    std::this_thread::sleep_for(50ms);
    set_gate(true);
  });
  resolver.reset();
  opener_thread.join();
  run_until_done(*fx.reactor, results);
  REQUIRE(results[0]->ok());
  CHECK(texts(results[0]->value()) == std::vector<std::string>{"127.0.0.1:80"});
  for (std::size_t i = 1; i < results.size(); ++i) {
    CHECK(results[i]->error() == std::errc::operation_canceled);
  }
  CHECK(gate_held() == 1);  // the queued ones were never looked up
}

TEST_CASE("connect_first returns the first address that accepts", "[resolver][connect]") {
  auto backend = testing::each_backend();
  if (skip_without(backend)) return;
  testing::ReactorFixture fx(backend);
  auto listener = net::listen_tcp(SocketAddress::loopback_v4(0), net::ReusePort::no);
  REQUIRE(listener.ok());
  const SocketAddress open = *net::local_address(listener->get());
  SocketAddress closed;
  {
    auto probe = net::listen_tcp(SocketAddress::loopback_v4(0), net::ReusePort::no);
    REQUIRE(probe.ok());
    closed = *net::local_address(probe->get());
  }  // closed now: connecting there is refused
  const runtime::OpOptions attempt{.timeout = 5s};

  SECTION("closed, then listening: the second") {
    auto result = testing::run(*fx.reactor, net::connect_first({closed, open}, attempt));
    REQUIRE(result.ok());
    CHECK(result->second == open);
    CHECK(net::peer_address(result->first.get())->to_string() == open.to_string());
  }
  SECTION("all refused: the last error") {
    auto result = testing::run(*fx.reactor, net::connect_first({closed, closed}, attempt));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error() == std::errc::connection_refused);
  }
  SECTION("no addresses: EINVAL") {
    auto result = testing::run(*fx.reactor, net::connect_first({}, attempt));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error() == std::errc::invalid_argument);
  }
  SECTION("cancelled: ECANCELED at once, the rest not tried") {
    runtime::Cancellation cancel;
    cancel.cancel();
    auto result =
        testing::run(*fx.reactor, net::connect_first({open, open}, {.cancellation = &cancel}));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error() == std::errc::operation_canceled);
  }
}
