// SPDX-License-Identifier: MIT
// Timers: heap order and removal, sleep duration, cancellation of a sleep.
#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "reactor_fixture.hpp"
#include "runtime/cancellation.hpp"
#include "runtime/io.hpp"
#include "runtime/timer_heap.hpp"

using namespace ringtunnel;
using namespace std::chrono_literals;
using runtime::Clock;
using runtime::Task;
using runtime::Timer;

TEST_CASE("the timer heap fires in deadline order and skips removed timers", "[timer]") {
  runtime::TimerHeap heap;
  std::vector<Timer> timers(200);
  std::vector<int> fired;
  std::mt19937 rng(7);
  const auto base = Clock::now();
  for (std::size_t i = 0; i < timers.size(); ++i) {
    timers[i].deadline = base + std::chrono::milliseconds(rng() % 1000);
    timers[i].context = &fired;
    timers[i].on_fire = [](Timer& t) {
      static_cast<std::vector<int>*>(t.context)->push_back(static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(t.deadline.time_since_epoch()).count()));
    };
    heap.add(timers[i]);
  }
  for (std::size_t i = 0; i < timers.size(); i += 3) heap.remove(timers[i]);
  CHECK(heap.fire_due(base + 2s) == timers.size() - (timers.size() + 2) / 3);
  CHECK(std::is_sorted(fired.begin(), fired.end()));
  CHECK(heap.empty());
  for (const Timer& t : timers) CHECK_FALSE(t.armed());
}

TEST_CASE("sleep waits at least its duration", "[timer]") {
  testing::ReactorFixture f(testing::each_backend());
  auto t = []() -> Task<Clock::duration> {
    auto start = Clock::now();
    auto slept = co_await runtime::sleep(30ms);
    REQUIRE(slept.ok());
    co_return Clock::now() - start;
  };
  auto took = testing::run(*f.reactor, t());
  CHECK(took >= 30ms);
  CHECK(took < 2s);
}

TEST_CASE("many concurrent sleeps wake in order of their deadlines", "[timer]") {
  testing::ReactorFixture f(testing::each_backend());
  std::vector<int> order;
  for (int i = 9; i >= 0; --i) {
    runtime::spawn([](int n, std::vector<int>& out) -> Task<void> {
      (void)co_await runtime::sleep(std::chrono::milliseconds(5 * n));
      out.push_back(n);
    }(i, order));
  }
  testing::run(*f.reactor, []() -> Task<void> { (void)co_await runtime::sleep(150ms); }());
  REQUIRE(order.size() == 10);
  CHECK(std::is_sorted(order.begin(), order.end()));
}

TEST_CASE("a cancelled sleep ends early with ECANCELED", "[timer][cancel]") {
  testing::ReactorFixture f(testing::each_backend());
  runtime::Cancellation cancel;
  auto sleeper = [](runtime::Cancellation& c) -> Task<std::error_code> {
    auto r = co_await runtime::sleep(10s, &c);
    co_return r.error();
  };
  auto canceller = [](runtime::Cancellation& c) -> Task<void> {
    (void)co_await runtime::sleep(20ms);
    c.cancel();
  };
  runtime::spawn(canceller(cancel));
  auto start = Clock::now();
  auto error = testing::run(*f.reactor, sleeper(cancel));
  CHECK(error == std::errc::operation_canceled);
  CHECK(Clock::now() - start < 5s);
  // Once cancelled, later operations on the same Cancellation fail at once.
  auto again = testing::run(*f.reactor, sleeper(cancel));
  CHECK(again == std::errc::operation_canceled);
}
