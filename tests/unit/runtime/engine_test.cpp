// SPDX-License-Identifier: MIT
// Engine: cross-core messages under load, a socket handed to another core, signals as events.
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/socket.hpp"
#include "reactor_fixture.hpp"
#include "runtime/engine.hpp"
#include "runtime/acceptor.hpp"
#include "runtime/io.hpp"
#include "runtime/visit_cores.hpp"

using namespace ringtunnel;
using namespace std::chrono_literals;
using runtime::CoreMessage;
using runtime::Reactor;
using runtime::Task;

namespace {
runtime::EngineOptions engine_options(runtime::BackendChoice backend, unsigned threads) {
  runtime::EngineOptions o;
  o.threads = threads;
  o.backend = backend;
  o.mailbox_capacity = 64;  // small, so the overflow path is exercised too
  return o;
}

// Stops the engine from a watchdog thread if a test hangs, so the failure is reported.
struct Watchdog {
  runtime::Engine& engine;
  std::atomic<bool> done{false};
  std::atomic<bool> fired{false};
  std::thread thread;
  Watchdog(runtime::Engine& e, std::chrono::seconds limit) : engine(e) {
    thread = std::thread([this, limit] {
      auto deadline = std::chrono::steady_clock::now() + limit;
      while (!done && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
      if (!done) {
        fired = true;
        engine.stop();
      }
    });
  }
  ~Watchdog() {
    done = true;
    thread.join();
  }
};

constexpr unsigned kThreads = 3;
constexpr uint64_t kPerPair = 50'000;

struct Traffic {
  runtime::Engine* engine = nullptr;
  // next_expected[to][from]: touched only by reactor `to`.
  std::array<std::array<uint64_t, kThreads>, kThreads> next_expected{};
  std::array<bool, kThreads> in_order{true, true, true};
  std::atomic<unsigned> finished{0};
};

void on_message(Reactor& self, CoreMessage& m) {
  auto* t = static_cast<Traffic*>(m.context);
  const unsigned from = static_cast<unsigned>(m.arg >> 32);
  const uint64_t seq = m.arg & 0xffffffffu;
  auto& expected = t->next_expected[self.id()][from];
  if (seq != expected) t->in_order[self.id()] = false;
  ++expected;
  uint64_t total = 0;
  for (uint64_t n : t->next_expected[self.id()]) total += n;
  if (total == kPerPair * (kThreads - 1) && ++t->finished == kThreads) t->engine->stop();
}
}  // namespace

TEST_CASE("reactors exchange messages under load, in order per sender, none lost", "[engine]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  runtime::Engine engine(engine_options(backend, kThreads));
  Traffic traffic;
  traffic.engine = &engine;
  Watchdog watchdog(engine, 60s);
  auto started = engine.start([&traffic](Reactor& r) {
    for (uint64_t seq = 0; seq < kPerPair; ++seq) {
      for (unsigned to = 0; to < kThreads; ++to) {
        if (to == r.id()) continue;
        CoreMessage m;
        m.handler = &on_message;
        m.arg = (uint64_t{r.id()} << 32) | seq;
        m.context = &traffic;
        r.post(to, std::move(m));
      }
    }
  });
  REQUIRE(started.ok());
  engine.join();
  CHECK_FALSE(watchdog.fired);
  for (unsigned to = 0; to < kThreads; ++to) {
    CHECK(traffic.in_order[to]);
    for (unsigned from = 0; from < kThreads; ++from) {
      CHECK(traffic.next_expected[to][from] == (to == from ? 0 : kPerPair));
    }
  }
}

namespace {
// Core 1 receives the socket and the bytes core 0 already read, and answers on that socket.
void finish_on_other_core(Reactor& self, CoreMessage& m) {
  runtime::spawn([](Reactor& r, net::UniqueFd fd, std::vector<std::byte> head) -> Task<void> {
    std::string reply(reinterpret_cast<const char*>(head.data()), head.size());
    reply += "@" + std::to_string(r.id());
    auto sent = co_await runtime::send_all(fd.get(), std::as_bytes(std::span(reply)));
    (void)sent;
    shutdown(fd.get(), SHUT_WR);
  }(self, std::move(m.fd), std::move(m.bytes)));
}
}  // namespace

TEST_CASE("a connection and its first bytes move to another core", "[engine]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  auto listener = net::listen_tcp(*net::SocketAddress::parse("127.0.0.1:0"), net::ReusePort::no);
  REQUIRE(listener.ok());
  const auto address = *net::local_address(listener->get());
  runtime::Engine engine(engine_options(backend, 2));
  Watchdog watchdog(engine, 30s);
  const int listen_fd = listener->get();
  auto started = engine.start([listen_fd](Reactor& r) {
    if (r.id() != 0) return;
    runtime::spawn([](Reactor& home, int fd) -> Task<void> {
      runtime::Acceptor acceptor(fd);
      auto conn = co_await acceptor.accept();
      REQUIRE(conn.ok());
      std::array<std::byte, 64> head{};
      auto n = co_await runtime::recv(conn->get(), head, {.timeout = 5s});
      REQUIRE(n.ok());
      CoreMessage m;
      m.handler = &finish_on_other_core;
      m.fd = std::move(*conn);
      m.bytes.assign(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(*n));
      home.post(1, std::move(m));
    }(r, listen_fd));
  });
  REQUIRE(started.ok());
  auto client = net::connect_tcp_blocking(address);
  REQUIRE(client.ok());
  const std::string hello = "hello from the client";
  REQUIRE(::send(client->get(), hello.data(), hello.size(), 0) == static_cast<ssize_t>(hello.size()));
  std::string answer;
  char buf[256];
  for (ssize_t n; (n = ::recv(client->get(), buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  engine.stop();
  engine.join();
  CHECK(answer == hello + "@1");
}

TEST_CASE("SIGHUP reaches every reactor as an event", "[engine]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  runtime::Engine engine(engine_options(backend, 2));
  Watchdog watchdog(engine, 30s);
  std::array<std::atomic<int>, 2> seen{};
  std::atomic<int> total{0};
  engine.set_signal_handler([&](Reactor& r, int signo) {
    if (signo == SIGHUP) ++seen[r.id()];
    if (++total == 2) engine.stop();
  });
  std::atomic<int> running{0};
  REQUIRE(engine.start([&running](Reactor&) { ++running; }).ok());
  for (int i = 0; i < 500 && running < 2; ++i) std::this_thread::sleep_for(2ms);
  REQUIRE(kill(getpid(), SIGHUP) == 0);
  engine.join();
  CHECK_FALSE(watchdog.fired);
  CHECK(seen[0] == 1);
  CHECK(seen[1] == 1);
}

namespace {
// Two reactors bounce one message back and forth; each hop is the only thing either does.
struct PingPong {
  std::atomic<std::uint64_t> hops{0};
  std::uint64_t target = 0;
  runtime::Engine* engine = nullptr;
  static void bounce(Reactor& here, CoreMessage& message) {
    auto* self = static_cast<PingPong*>(message.context);
    if (self->hops.fetch_add(1) + 1 >= self->target) {
      self->engine->stop();
      return;
    }
    CoreMessage next;
    next.handler = &PingPong::bounce;
    next.context = self;
    here.post(1 - here.id(), std::move(next));
  }
};
}  // namespace

TEST_CASE("with idle polling, a message still wakes a reactor at once", "[engine]") {
  // Regression: a poll's zero-timeout wait could consume the doorbell of a message without
  // delivering a completion, and the loop then slept with the message unread.
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  auto options = engine_options(backend, 2);
  options.reactor.idle_poll = std::chrono::microseconds(30);
  options.handle_signals = false;
  runtime::Engine engine(options);
  PingPong game;
  game.target = 4000;
  game.engine = &engine;
  Watchdog watchdog(engine, 20s);
  auto started = engine.start([&](Reactor& reactor) {
    if (reactor.id() != 0) return;
    CoreMessage first;
    first.handler = &PingPong::bounce;
    first.context = &game;
    reactor.post(1, std::move(first));
  });
  REQUIRE(started.ok());
  engine.join();
  CHECK_FALSE(watchdog.fired.load());
  CHECK(game.hops.load() >= game.target);
}

TEST_CASE("an idle reactor polls before it sleeps, a reactor without idle_poll never does",
          "[engine]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  runtime::ReactorOptions polling;
  polling.idle_poll = std::chrono::microseconds(50);
  testing::ReactorFixture with_poll(backend, polling);
  for (int i = 0; i < 20; ++i) with_poll.reactor->run_once(std::chrono::milliseconds(1));
  CHECK(with_poll.reactor->stats().idle_polls_expired >= 10);  // nothing came: each poll expired
  testing::ReactorFixture without(backend);
  for (int i = 0; i < 20; ++i) without.reactor->run_once(std::chrono::milliseconds(1));
  CHECK(without.reactor->stats().idle_polls_expired == 0);
}

TEST_CASE("visit_every_core runs on each reactor's own thread and waits for all", "[engine]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  runtime::Engine engine(engine_options(backend, 3));
  Watchdog watchdog(engine, 60s);
  REQUIRE(engine.start([](Reactor&) {}).ok());
  for (int round = 0; round < 50; ++round) {
    auto seen = std::make_shared<std::array<std::atomic<int>, 3>>();
    const bool all = runtime::visit_every_core(
        engine,
        [seen](Reactor& reactor) {
          // On the reactor's thread: Reactor::current() is the reactor visited.
          if (Reactor::current() == &reactor) (*seen)[reactor.id()].fetch_add(1);
        },
        5s);
    REQUIRE(all);
    for (auto& count : *seen) CHECK(count.load() == 1);
  }
  engine.stop();
  engine.join();
  CHECK_FALSE(watchdog.fired);
}

TEST_CASE("visit_every_core reports a reactor that does not answer", "[engine]") {
  auto backend = testing::each_backend();
  runtime::Engine engine(engine_options(backend, 2));
  std::atomic<bool> release{false};
  REQUIRE(engine.start([](Reactor&) {}).ok());
  // Core 1 is kept busy by the first visit; the call gives up after its timeout, and the late
  // visit still runs safely once core 1 is free (it owns what it writes).
  auto late = std::make_shared<std::atomic<int>>(0);
  const bool all = runtime::visit_every_core(
      engine,
      [&release, late](Reactor& reactor) {
        if (reactor.id() == 1) {
          while (!release.load()) std::this_thread::sleep_for(1ms);
        }
        late->fetch_add(1);
      },
      100ms);
  CHECK_FALSE(all);
  release = true;
  for (int i = 0; i < 2000 && late->load() < 2; ++i) std::this_thread::sleep_for(1ms);
  CHECK(late->load() == 2);
  engine.stop();
  engine.join();
}

TEST_CASE("starting an engine leaves the caller's blocking system calls alone", "[engine]") {
  // Engine::start probes io_uring; a ring set up and torn down on the calling thread used to
  // leave task work aimed at it, and a later blocking read() there failed with EINTR (an
  // embedder's thread, 1 start in 20). Each round: start, then block in read() until a timeout.
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  int interrupted = 0;
  for (int round = 0; round < 40; ++round) {
    runtime::Engine engine(engine_options(backend, 2));
    REQUIRE(engine.start([](Reactor&) {}).ok());
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    const timeval limit{0, 30000};
    ::setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    char byte;
    const ssize_t got = ::read(pair[0], &byte, 1);
    if (got < 0 && errno == EINTR) ++interrupted;
    CHECK(got < 0);
    ::close(pair[0]);
    ::close(pair[1]);
    engine.stop();
    engine.join();
  }
  CHECK(interrupted == 0);
}
