// SPDX-License-Identifier: MIT
// Task: values, exceptions, and long chains of awaits that complete at once (stack safety).
#include <catch2/catch.hpp>
#include <stdexcept>

#include "reactor_fixture.hpp"
#include "runtime/task.hpp"

using namespace ringtunnel;
using runtime::Task;

namespace {
Task<int> answer() { co_return 42; }
Task<int> add_one(int x) { co_return x + 1; }
Task<int> thrower() {
  throw std::runtime_error("boom");
  co_return 0;
}
// Each iteration awaits a task that completes without suspending: the pattern that overflows
// the stack when symmetric transfer is not a tail call (g++ -O0, ASan).
Task<long> chain(long n) {
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += co_await add_one(0);
  co_return sum;
}
}  // namespace

TEST_CASE("a task returns its value to its awaiter", "[task]") {
  testing::ReactorFixture f(testing::each_backend());
  auto outer = []() -> Task<int> { co_return co_await answer() + co_await add_one(1); };
  CHECK(testing::run(*f.reactor, outer()) == 44);
}

TEST_CASE("an exception in a task is rethrown at the co_await", "[task]") {
  testing::ReactorFixture f(runtime::BackendChoice::epoll);
  auto outer = []() -> Task<std::string> {
    try {
      co_await thrower();
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "no exception";
  };
  CHECK(testing::run(*f.reactor, outer()) == "boom");
}

TEST_CASE("100,000 awaits that complete at once do not grow the stack", "[task]") {
  testing::ReactorFixture f(testing::each_backend());
  CHECK(testing::run(*f.reactor, chain(100'000)) == 100'000);
}

TEST_CASE("a spawned task runs to completion and frees itself", "[task]") {
  testing::ReactorFixture f(runtime::BackendChoice::epoll);
  int ran = 0;
  runtime::spawn([](int& counter) -> Task<void> {
    counter += co_await answer();
  }(ran));
  CHECK(ran == 42);  // it had nothing to wait for, so it finished inside spawn()
}
