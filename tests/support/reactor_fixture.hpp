// SPDX-License-Identifier: MIT
// Test helpers: a reactor on the test thread for a chosen backend, and run() to drive a Task.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "runtime/backend.hpp"
#include "runtime/reactor.hpp"
#include "runtime/task.hpp"

namespace ringtunnel::testing {

/// The backend(s) a runtime test runs on: the one named by RINGTUNNEL_TEST_BACKEND (meson runs
/// the suite once per backend that way), or both, one after the other, when it is unset.
inline runtime::BackendChoice each_backend() {
  const char* only = std::getenv("RINGTUNNEL_TEST_BACKEND");
  if (only && std::string(only) == "io_uring") return runtime::BackendChoice::io_uring;
  if (only && std::string(only) == "epoll") return runtime::BackendChoice::epoll;
  return GENERATE(runtime::BackendChoice::io_uring, runtime::BackendChoice::epoll);
}

inline const char* name_of(runtime::BackendChoice c) {
  return c == runtime::BackendChoice::io_uring ? "io_uring" : "epoll";
}

/// A reactor owned by the test thread.
struct ReactorFixture {
  explicit ReactorFixture(runtime::BackendChoice choice, runtime::ReactorOptions options = {}) {
    std::string why;
    auto backend = runtime::make_backend(choice, 256, &why);
    INFO("backend: " << why);
    REQUIRE(backend != nullptr);
    reactor = std::make_unique<runtime::Reactor>(0, std::move(backend), options);
    reactor->run_once(std::chrono::nanoseconds(0));  // make it current on this thread
  }
  ~ReactorFixture() { reactor->drain(); }  // let orphaned operations complete and free their state
  ReactorFixture(const ReactorFixture&) = delete;
  ReactorFixture& operator=(const ReactorFixture&) = delete;
  std::unique_ptr<runtime::Reactor> reactor;
};

/// Turns the loop until `done` is set; fails the test after `limit`.
inline void run_until(runtime::Reactor& reactor, const bool& done,
                      std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    reactor.run_once(std::chrono::milliseconds(10));
  }
  REQUIRE(done);
}

/// Runs the reactor until `task` finishes and returns its value; fails the test after `limit`.
template <typename T>
T run(runtime::Reactor& reactor, runtime::Task<T> task,
      std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  std::optional<T> out;
  bool done = false;
  runtime::spawn([](runtime::Task<T> t, std::optional<T>& result, bool& flag) -> runtime::Task<void> {
    result.emplace(co_await std::move(t));
    flag = true;
  }(std::move(task), out, done));
  run_until(reactor, done, limit);
  return std::move(*out);
}

inline void run(runtime::Reactor& reactor, runtime::Task<void> task,
                std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  bool done = false;
  runtime::spawn([](runtime::Task<void> t, bool& flag) -> runtime::Task<void> {
    co_await std::move(t);
    flag = true;
  }(std::move(task), done));
  run_until(reactor, done, limit);
}

}  // namespace ringtunnel::testing
