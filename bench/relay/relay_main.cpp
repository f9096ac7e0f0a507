// SPDX-License-Identifier: MIT
// ringtunnel-bench-relay: the runtime's plain TCP relay as a program, for benches and quickstart.
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <string>

#include "relay.hpp"

using namespace ringtunnel;

namespace {
runtime::BackendChoice parse_backend(const std::string& name) {
  if (name == "io_uring") return runtime::BackendChoice::io_uring;
  if (name == "epoll") return runtime::BackendChoice::epoll;
  return runtime::BackendChoice::automatic;
}

net::SocketAddress parse_or_exit(const std::string& text, const char* flag) {
  auto address = net::SocketAddress::parse(text);
  if (!address) {
    std::fprintf(stderr, "ringtunnel-bench-relay: %s: %s\n", flag,
                 net::SocketAddress::parse_error_text(text).c_str());
    std::exit(2);
  }
  return *address;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Plain TCP relay on ringtunnel's runtime: accepts on --listen and pipes each "
               "connection to --target. A benchmark and demo tool, not the tunnel."};
  std::string listen = "127.0.0.1:7000";
  std::string target;
  unsigned threads = 0;
  std::string backend = "auto";
  app.add_option("--listen", listen, "HOST:PORT to accept on (every reactor, SO_REUSEPORT)")
      ->capture_default_str();
  app.add_option("--target", target, "HOST:PORT to connect each accepted connection to")
      ->required();
  app.add_option("--threads", threads, "reactor threads, one per core (0 = online CPUs)")
      ->capture_default_str();
  app.add_option("--io-backend", backend, "auto, io_uring or epoll")
      ->check(CLI::IsMember({"auto", "io_uring", "epoll"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  bench::RelayOptions options{parse_or_exit(listen, "--listen"), parse_or_exit(target, "--target")};
  runtime::EngineOptions engine_options;
  engine_options.threads = threads;
  engine_options.backend = parse_backend(backend);
  runtime::Engine engine(engine_options);
  bench::Relay relay(options, engine.size());

  engine.set_signal_handler([&relay](runtime::Reactor& reactor, int signo) {
    if (signo == SIGINT || signo == SIGTERM) relay.stop_on(reactor);
  });
  std::atomic<int> start_error{0};
  std::atomic<unsigned> listening{0};
  auto started = engine.start([&](runtime::Reactor& reactor) {
    auto ok = relay.start_on(reactor);
    if (!ok) {
      start_error = ok.error().value();
      engine.stop();
    }
    listening.fetch_add(1);
    listening.notify_all();
  });
  if (!started) {
    std::fprintf(stderr, "ringtunnel-bench-relay: cannot start the runtime: %s\n",
                 engine.backend_reason().c_str());
    return 1;
  }
  // Announce readiness only once every reactor's listener is open (scripts wait for this line).
  for (unsigned seen = listening.load(); seen < engine.size(); seen = listening.load()) {
    listening.wait(seen);
  }
  if (!start_error) {
    std::printf("relay: %s -> %s on %u reactor(s); backend: %s\n", options.listen.to_string().c_str(),
                options.target.to_string().c_str(), engine.size(), engine.backend_reason().c_str());
    std::fflush(stdout);
  }
  engine.join();
  if (start_error) {
    std::fprintf(stderr, "ringtunnel-bench-relay: cannot listen on %s: %s\n",
                 options.listen.to_string().c_str(), std::strerror(start_error));
    return 1;
  }
  auto totals = relay.totals();
  std::printf("relay: %llu connections, %llu bytes up, %llu bytes down, %llu connect failures\n",
              static_cast<unsigned long long>(totals.connections),
              static_cast<unsigned long long>(totals.bytes_up),
              static_cast<unsigned long long>(totals.bytes_down),
              static_cast<unsigned long long>(totals.connect_failures));
  return 0;
}
