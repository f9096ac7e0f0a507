// SPDX-License-Identifier: MIT
// make_backend: io_uring when it works here, epoll otherwise, with the reason for the log.
#include "runtime/backend.hpp"

#include <thread>

#include "runtime/epoll_backend.hpp"
#include "runtime/uring_backend.hpp"

namespace ringtunnel::runtime {

const char* to_string(BackendKind kind) noexcept {
  return kind == BackendKind::io_uring ? "io_uring" : "epoll";
}

bool io_uring_available(std::string* why_not) {
  // On a thread of its own, like Engine::start's probe: a ring made and torn down on the
  // caller's thread aims io_uring task work at it, which breaks a later blocking call there
  // with EINTR.
  std::string error;
  bool available = false;
  std::thread([&] { available = UringBackend::create(8, &error) != nullptr; }).join();
  if (!available && why_not) *why_not = error;
  return available;
}

std::unique_ptr<Backend> make_backend(BackendChoice choice, unsigned queue_depth, std::string* why) {
  std::string error;
  if (choice == BackendChoice::epoll) {
    auto b = make_epoll_backend(&error);
    *why = b ? "epoll, as requested" : "epoll: " + error;
    return b;
  }
  auto uring = UringBackend::create(queue_depth, &error);
  if (uring) {
    *why = uring->describe() + (choice == BackendChoice::io_uring ? ", as requested" : ", available");
    return uring;
  }
  if (choice == BackendChoice::io_uring) {
    *why = "io_uring was requested but is unavailable: " + error;
    return nullptr;
  }
  auto epoll = make_epoll_backend(&error);
  *why = epoll ? "epoll, because io_uring is unavailable: " + error : "no backend: " + error;
  return epoll;
}

}  // namespace ringtunnel::runtime
