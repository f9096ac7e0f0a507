// SPDX-License-Identifier: MIT
// Reactor::post_from_any_thread: messages from plain threads run on the reactor, once, in order.
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "net/unique_fd.hpp"
#include "reactor_fixture.hpp"
#include "runtime/core_message.hpp"
#include "runtime/reactor.hpp"

using namespace ringtunnel;
using namespace std::chrono_literals;
using runtime::CoreMessage;
using runtime::Reactor;

namespace {

constexpr unsigned kThreads = 4;
constexpr std::uint32_t kPerThread = 10'000;

// What the handlers see; touched only on the reactor's thread.
struct Tally {
  std::thread::id reactor_thread;
  std::array<std::uint32_t, kThreads> next{};  // the sequence number expected next, per sender
  std::uint64_t ran = 0;
  bool wrong_thread = false;
  bool out_of_order = false;
};

void count(Reactor& /*reactor*/, CoreMessage& message) {
  auto& tally = *static_cast<Tally*>(message.context);
  const auto sender = static_cast<unsigned>(message.arg >> 32);
  const auto sequence = static_cast<std::uint32_t>(message.arg);
  if (std::this_thread::get_id() != tally.reactor_thread) tally.wrong_thread = true;
  if (sequence != tally.next[sender]) tally.out_of_order = true;
  tally.next[sender] = sequence + 1;
  ++tally.ran;
}

void set_flag(Reactor& /*reactor*/, CoreMessage& message) {
  *static_cast<bool*>(message.context) = true;
}

bool fd_is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

std::unique_ptr<Reactor> make_reactor(runtime::BackendChoice choice) {
  std::string why;
  auto backend = runtime::make_backend(choice, 64, &why);
  INFO("backend: " << why);
  REQUIRE(backend != nullptr);
  return std::make_unique<Reactor>(0, std::move(backend), runtime::ReactorOptions{});
}

}  // namespace

TEST_CASE("messages from other threads all run on the reactor, once, FIFO per thread",
          "[reactor]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  testing::ReactorFixture fx(backend);
  Tally tally;
  tally.reactor_thread = std::this_thread::get_id();
  Reactor& reactor = *fx.reactor;

  std::vector<std::thread> senders;
  for (unsigned t = 0; t < kThreads; ++t) {
    senders.emplace_back([&reactor, &tally, t] {
      for (std::uint32_t i = 0; i < kPerThread; ++i) {
        CoreMessage m;
        m.handler = &count;
        m.arg = (std::uint64_t{t} << 32) | i;
        m.context = &tally;
        reactor.post_from_any_thread(std::move(m));
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (tally.ran < kThreads * kPerThread && std::chrono::steady_clock::now() < deadline) {
    reactor.run_once(10ms);
  }
  for (auto& s : senders) s.join();
  reactor.run_once(0ns);  // nothing left over: no message runs twice
  CHECK(tally.ran == kThreads * kPerThread);
  CHECK_FALSE(tally.wrong_thread);
  CHECK_FALSE(tally.out_of_order);
  for (unsigned t = 0; t < kThreads; ++t) CHECK(tally.next[t] == kPerThread);
  CHECK(reactor.stats().messages_received == kThreads * kPerThread);
}

TEST_CASE("a post from another thread wakes a reactor blocked in its wait", "[reactor]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  testing::ReactorFixture fx(backend);
  bool ran = false;
  std::thread sender([&] {
    std::this_thread::sleep_for(50ms);
    CoreMessage m;
    m.handler = &set_flag;
    m.context = &ran;
    fx.reactor->post_from_any_thread(std::move(m));
  });
  // No timers, nothing ready: without the wake this turn would sleep its whole 10 s.
  const auto start = std::chrono::steady_clock::now();
  fx.reactor->run_once(10s);
  fx.reactor->run_once(0ns);  // the handler runs at the start of the next turn
  sender.join();
  CHECK(ran);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("a message posted to the reactor's own thread runs on a later turn", "[reactor]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  testing::ReactorFixture fx(backend);
  bool ran = false;
  CoreMessage m;
  m.handler = &set_flag;
  m.context = &ran;
  fx.reactor->post_from_any_thread(std::move(m));
  CHECK_FALSE(ran);
  fx.reactor->run_once(0ns);
  CHECK(ran);
}

TEST_CASE("messages left unrun when the reactor is destroyed close their fds", "[reactor]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  auto reactor = make_reactor(backend);
  int fds[2] = {-1, -1};
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  net::UniqueFd write_end(fds[1]);
  bool ran = false;
  std::thread sender([&, read_end = fds[0]] {
    CoreMessage m;
    m.handler = &set_flag;
    m.context = &ran;
    m.fd = net::UniqueFd(read_end);
    reactor->post_from_any_thread(std::move(m));
  });
  sender.join();
  REQUIRE(fd_is_open(fds[0]));
  reactor.reset();  // never ran a turn
  CHECK_FALSE(ran);
  CHECK_FALSE(fd_is_open(fds[0]));
}
