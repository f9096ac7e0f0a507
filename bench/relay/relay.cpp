// SPDX-License-Identifier: MIT
// Relay: accept loop, upstream connect, and two pumps per connection (recv buffer → send).
#include "relay.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>

#include "net/socket.hpp"
#include "runtime/acceptor.hpp"
#include "runtime/io.hpp"
#include "runtime/receiver.hpp"
#include "runtime/task.hpp"

namespace ringtunnel::bench {

using namespace std::chrono_literals;
using runtime::Reactor;
using runtime::Task;

struct Connection;

// Everything the relay keeps on one reactor. Only that reactor's thread touches it.
struct RelayCore {
  RelayOptions options;
  net::UniqueFd listener;
  std::unique_ptr<runtime::Acceptor> acceptor;
  Connection* connections = nullptr;  // intrusive list of open connections
  RelayCounters counters;
  bool stopping = false;
  bool accept_loop_done = false;
};

struct Connection {
  RelayCore& core;
  net::UniqueFd client;
  net::UniqueFd upstream;
  int pumps_running = 0;
  Connection* prev = nullptr;
  Connection* next = nullptr;

  Connection(RelayCore& c, net::UniqueFd fd) : core(c), client(std::move(fd)) {
    next = core.connections;
    if (next) next->prev = this;
    core.connections = this;
  }
  ~Connection() {
    (prev ? prev->next : core.connections) = next;
    if (next) next->prev = prev;
  }
  void shut_down() {
    shutdown(client.get(), SHUT_RDWR);
    if (upstream) shutdown(upstream.get(), SHUT_RDWR);
  }
};

namespace {

void maybe_finish(Reactor& reactor, RelayCore& core) {
  if (core.stopping && core.accept_loop_done && core.connections == nullptr) reactor.request_stop();
}

// One direction: receive into a provided buffer, send it on, give the buffer back.
Task<void> pump(Connection& conn, int from, int to, uint64_t& bytes) {
  runtime::Receiver receiver(from);
  for (;;) {
    auto buffer = co_await receiver.receive();
    if (!buffer) break;
    if (buffer->empty()) {  // orderly end of stream: pass the half-close on
      shutdown(to, SHUT_WR);
      co_return;
    }
    bytes += buffer->size();
    auto sent = co_await runtime::send_all(to, buffer->bytes());
    if (!sent) break;
  }
  conn.shut_down();  // an error on one side ends both directions
}

Task<void> run_pump(Connection& conn, int from, int to, uint64_t& bytes) {
  co_await pump(conn, from, to, bytes);
  if (--conn.pumps_running == 0) {
    RelayCore& core = conn.core;
    delete &conn;
    maybe_finish(*Reactor::current(), core);
  }
}

Task<void> serve(RelayCore& core, net::UniqueFd client) {
  auto* conn = new Connection(core, std::move(client));
  ++core.counters.connections;
  auto upstream = net::tcp_socket(core.options.target.family());
  bool connected = false;
  if (upstream) {
    conn->upstream = std::move(*upstream);
    auto done = co_await runtime::connect(conn->upstream.get(), core.options.target, {.timeout = 10s});
    connected = done.ok();
  }
  if (!connected || core.stopping) {
    ++core.counters.connect_failures;
    delete conn;
    maybe_finish(*Reactor::current(), core);
    co_return;
  }
  (void)net::set_tcp_nodelay(conn->client.get());
  (void)net::set_tcp_nodelay(conn->upstream.get());
  conn->pumps_running = 2;
  runtime::spawn(run_pump(*conn, conn->client.get(), conn->upstream.get(), core.counters.bytes_up));
  runtime::spawn(run_pump(*conn, conn->upstream.get(), conn->client.get(), core.counters.bytes_down));
}

Task<void> accept_loop(Reactor& reactor, RelayCore& core) {
  while (!core.stopping) {
    auto client = co_await core.acceptor->accept();
    if (client) {
      runtime::spawn(serve(core, std::move(*client)));
    } else if (client.error() != std::errc::operation_canceled) {
      // EMFILE and friends: back off briefly instead of spinning on the error.
      co_await runtime::sleep(10ms);
    }
  }
  core.accept_loop_done = true;
  core.acceptor.reset();  // on this reactor's thread; its cancelled accept drains before exit
  maybe_finish(reactor, core);
}

}  // namespace

Relay::Relay(RelayOptions options, unsigned reactors) : options_(options), cores_(reactors) {}

Relay::~Relay() = default;

Result<void> Relay::start_on(Reactor& reactor) {
  auto listener = net::listen_tcp(options_.listen, net::ReusePort::yes);
  if (!listener) return listener.error();
  auto core = std::make_unique<RelayCore>();
  core->options = options_;
  core->listener = std::move(*listener);
  core->acceptor = std::make_unique<runtime::Acceptor>(core->listener.get());
  runtime::spawn(accept_loop(reactor, *core));
  cores_[reactor.id()] = std::move(core);
  return {};
}

void Relay::stop_on(Reactor& reactor) {
  RelayCore* core = cores_[reactor.id()].get();
  if (!core) {
    reactor.request_stop();
    return;
  }
  core->stopping = true;
  if (core->acceptor) core->acceptor->stop();
  for (Connection* c = core->connections; c; c = c->next) c->shut_down();
  maybe_finish(reactor, *core);
}

RelayCounters Relay::totals() const {
  RelayCounters sum;
  for (const auto& core : cores_) {
    if (!core) continue;
    sum.connections += core->counters.connections;
    sum.connect_failures += core->counters.connect_failures;
    sum.bytes_up += core->counters.bytes_up;
    sum.bytes_down += core->counters.bytes_down;
  }
  return sum;
}

}  // namespace ringtunnel::bench
