// SPDX-License-Identifier: MIT
// SpscQueue: order, capacity, and a concurrent producer/consumer that checks every item.
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "runtime/spsc_queue.hpp"

using ringtunnel::runtime::SpscQueue;

TEST_CASE("the queue is FIFO and refuses items when full", "[queue]") {
  SpscQueue<int> q(4);
  for (int i = 0; i < 4; ++i) {
    int v = i;
    REQUIRE(q.try_push(v));
  }
  int extra = 99;
  CHECK_FALSE(q.try_push(extra));
  CHECK(extra == 99);  // a refused push leaves the value with the caller
  for (int i = 0; i < 4; ++i) CHECK(q.try_pop() == i);
  CHECK_FALSE(q.try_pop().has_value());
}

TEST_CASE("the queue moves move-only items and destroys what is left", "[queue]") {
  auto counter = std::make_shared<int>(0);
  {
    SpscQueue<std::shared_ptr<int>> q(8);
    for (int i = 0; i < 5; ++i) {
      auto p = counter;
      REQUIRE(q.try_push(p));
    }
    CHECK(counter.use_count() == 6);
    (void)q.try_pop();
    CHECK(counter.use_count() == 5);
  }
  CHECK(counter.use_count() == 1);
}

TEST_CASE("a producer and a consumer thread pass two million items in order", "[queue]") {
  constexpr uint64_t kItems = 2'000'000;
  SpscQueue<uint64_t> q(1024);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::thread producer([&] {
    for (uint64_t i = 0; i < kItems && std::chrono::steady_clock::now() < deadline;) {
      uint64_t v = i;
      if (q.try_push(v)) ++i;
    }
  });
  uint64_t expected = 0;
  bool in_order = true;
  while (expected < kItems && std::chrono::steady_clock::now() < deadline) {
    if (auto v = q.try_pop()) {
      in_order = in_order && (*v == expected);
      ++expected;
    }
  }
  producer.join();
  CHECK(in_order);
  CHECK(expected == kItems);
}
