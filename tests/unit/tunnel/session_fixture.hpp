// SPDX-License-Identifier: MIT
// What the session tests share: two sessions over loopback on one reactor, a TCP echo
// service, the server's handler (policy, upstream connects), a tap in the middle.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <random>
#include <thread>

#include "net/socket.hpp"
#include "protocol/payload.hpp"
#include "reactor_fixture.hpp"
#include "runtime/acceptor.hpp"
#include "runtime/io.hpp"
#include "runtime/receiver.hpp"
#include "tunnel/aead_channel.hpp"
#include "tunnel/session.hpp"
#include "tunnel_test_support.hpp"

namespace ringtunnel::tunnel::test::session {

using namespace std::chrono_literals;
using protocol::Reason;
using runtime::Task;

// Turns the reactor until `done()` or the limit (then the test fails).
inline void turn_until(runtime::Reactor& reactor, const std::function<bool()>& done,
                       std::chrono::milliseconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    reactor.run_once(std::chrono::milliseconds(5));
  }
  REQUIRE(done());
}

inline Bytes random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

// Blocking helpers for the application threads.
inline bool write_all(int fd, std::span<const std::byte> data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return true;
}
inline Bytes read_to_eof(int fd) {
  Bytes out;
  std::byte chunk[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    out.insert(out.end(), chunk, chunk + n);
  }
  return out;
}
// Writes `payload` into the application's end `fd` and half-closes it, while reading what
// comes back until EOF (two threads, so a payload of any size cannot deadlock on full
// buffers); the reactor turns meanwhile. What came back; the write must have succeeded.
inline Bytes echo_through(runtime::Reactor& reactor, int fd, const Bytes& payload) {
  Bytes echoed;
  std::atomic<bool> done{false};
  std::atomic<bool> wrote{false};
  std::thread user([&] {
    std::thread writer([&] {
      wrote = write_all(fd, payload);
      ::shutdown(fd, SHUT_WR);  // half-close: the echo still comes back
    });
    echoed = read_to_eof(fd);
    writer.join();
    done = true;
  });
  turn_until(reactor, [&] { return done.load(); });
  user.join();
  CHECK(wrote.load());
  return echoed;
}

inline void set_receive_timeout(int fd, std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// An echo service on the reactor: echoes each connection until EOF, then half-closes.
struct EchoService {
  net::UniqueFd listener;
  net::SocketAddress address;
  std::unique_ptr<runtime::Acceptor> acceptor;
  int running = 0;

  EchoService() {
    listener = std::move(net::listen_tcp(net::SocketAddress::loopback_v4(0), net::ReusePort::no).value());
    address = *net::local_address(listener.get());
    acceptor = std::make_unique<runtime::Acceptor>(listener.get());
    ++running;
    runtime::spawn(accept_loop());
  }
  Task<void> accept_loop() {
    for (;;) {
      auto conn = co_await acceptor->accept();
      if (!conn) break;
      ++running;
      runtime::spawn(echo(std::move(*conn)));
    }
    --running;
  }
  Task<void> echo(net::UniqueFd fd) {
    runtime::Receiver rx(fd.get());
    for (;;) {
      auto got = co_await rx.receive();
      if (!got || got->empty()) break;
      if (!co_await runtime::send_all(fd.get(), got->bytes())) break;
    }
    ::shutdown(fd.get(), SHUT_WR);
    --running;
  }
  void stop() { acceptor->stop(); }
};

// A UDP echo service on the reactor: every datagram goes back to where it came from.
struct UdpEchoService {
  net::UniqueFd socket;
  net::SocketAddress address;
  runtime::Cancellation stop_;
  int running = 0;
  std::uint64_t echoed = 0;

  UdpEchoService() {
    socket = std::move(net::bind_udp(net::SocketAddress::loopback_v4(0), net::ReusePort::no).value());
    address = *net::local_address(socket.get());
    ++running;
    runtime::spawn(loop());
  }
  Task<void> loop() {
    std::vector<std::byte> buffer(65536);
    for (;;) {
      ::sockaddr_storage from{};
      auto got = co_await runtime::recv_from(socket.get(), buffer, &from, {.cancellation = &stop_});
      if (!got) break;
      const socklen_t length = from.ss_family == AF_INET6 ? sizeof(::sockaddr_in6) : sizeof(::sockaddr_in);
      ::sendto(socket.get(), buffer.data(), got->size, 0, reinterpret_cast<::sockaddr*>(&from), length);
      ++echoed;
    }
    --running;
  }
  void stop() { stop_.cancel(); }
};

// The server's handler: port 1 is refused by "policy", everything else goes to the echo service.
struct ServerSide : SessionHandler {
  net::SocketAddress echo;
  net::SocketAddress udp_echo;
  bool ended = false;
  std::error_code why;
  int connects = 0;
  std::chrono::milliseconds connect_delay{0};  // holds each upstream connect this long

  void on_open_request(Session& session, Stream& stream, const protocol::Open& open) override {
    if (open.port == 1) {
      session.refuse(stream, Reason::port_not_allowed, "port 1 is not allowed by this server");
      return;
    }
    if (protocol::is_check_kind(open.kind)) {
      session.accept(stream, {});
      return;
    }
    if (open.kind == protocol::kOpenKindUdp) {
      runtime::spawn(connect_udp(session, stream));
      return;
    }
    ++connects;
    runtime::spawn(connect(session, stream));
  }
  Task<void> connect(Session& session, Stream& stream) {
    if (connect_delay.count() > 0) {
      (void)co_await runtime::sleep(connect_delay, &stream.connect_cancellation());
    }
    auto fd = net::tcp_socket(AF_INET);
    auto connected = co_await runtime::connect(
        fd->get(), echo, {.timeout = 5s, .cancellation = &stream.connect_cancellation()});
    --connects;
    if (connected) {
      session.accept(stream, std::move(*fd));
    } else {
      session.refuse(stream, Reason::connect_failed, connected.error().message());
    }
  }
  Task<void> connect_udp(Session& session, Stream& stream) {
    if (connect_delay.count() > 0) {
      (void)co_await runtime::sleep(connect_delay, &stream.connect_cancellation());
    }
    auto flow = net::connect_udp(udp_echo);
    REQUIRE(flow.ok());
    session.accept(stream, std::move(*flow));
  }
  void on_session_end(Session&, std::error_code e) override {
    ended = true;
    why = e;
  }
};

struct ClientSide : SessionHandler {
  bool ended = false;
  std::error_code why;
  void on_open_request(Session& session, Stream& stream, const protocol::Open&) override {
    session.refuse(stream, Reason::port_not_allowed, "this client exposes nothing");
  }
  void on_session_end(Session&, std::error_code e) override {
    ended = true;
    why = e;
  }
};

inline std::unique_ptr<Session> make_session(net::UniqueFd fd, const Established& established,
                                      protocol::Role role, SessionHandler& handler,
                                      SessionConfig config = {}) {
  REQUIRE(net::set_nonblocking(fd.get()).ok());
  auto channel = must(AeadChannel::create(established, role, Channel::Clock::now()));
  auto ring = must(Session::make_receive_ring(*channel));
  config.role = role;
  config.name = role == protocol::Role::client ? "client session" : "server session";
  return std::make_unique<Session>(std::move(ring), std::move(fd), std::move(channel),
                                   std::move(config), handler, std::vector<std::byte>{});
}

// A man in the middle between the two sessions: pumps bytes both ways and, when armed,
// flips one bit of the next byte going from the server to the client.
struct Tap {
  net::UniqueFd client_end;  // connected to the client session
  net::UniqueFd server_end;  // connected to the server session
  bool flip_next = false;
  bool black_hole = false;  // swallow everything both ways (a network that went away)
  int running = 0;
  Task<void> pump(int from, int to, bool towards_client) {
    runtime::Receiver rx(from);
    for (;;) {
      auto got = co_await rx.receive();
      if (!got || got->empty()) break;
      if (black_hole) continue;
      if (towards_client && flip_next) {
        got->bytes()[got->size() / 2] ^= std::byte{0x01};
        flip_next = false;
      }
      if (!co_await runtime::send_all(to, got->bytes())) break;
    }
    ::shutdown(to, SHUT_RDWR);
    ::shutdown(from, SHUT_RDWR);
    --running;
  }
  void start() {
    running = 2;
    runtime::spawn(pump(client_end.get(), server_end.get(), false));
    runtime::spawn(pump(server_end.get(), client_end.get(), true));
  }
};

// A client and a server session over one loopback connection (through a Tap if asked), and
// the echo service.
struct Tunnel {
  testing::ReactorFixture fixture;
  EchoService echo;
  UdpEchoService udp_echo;
  ServerSide server_side;
  ClientSide client_side;
  std::unique_ptr<Session> client;
  std::unique_ptr<Session> server;
  std::unique_ptr<Tap> tap;
  runtime::Reactor& reactor() { return *fixture.reactor; }

  explicit Tunnel(runtime::BackendChoice backend, bool tapped = false,
                  SessionConfig client_config = {}, SessionConfig server_config = {})
      : fixture(backend) {
    server_side.echo = echo.address;
    server_side.udp_echo = udp_echo.address;
    auto client_key = new_key();
    auto server_key = new_key();
    Run run(client_key, server_key);
    auto [client_est, server_est] = run.all();
    auto [a, b] = must(net::tcp_loopback_pair());
    if (tapped) {
      auto [c, d] = must(net::tcp_loopback_pair());
      tap = std::make_unique<Tap>();
      tap->client_end = std::move(b);
      tap->server_end = std::move(c);
      REQUIRE(net::set_nonblocking(tap->client_end.get()).ok());
      REQUIRE(net::set_nonblocking(tap->server_end.get()).ok());
      tap->start();
      b = std::move(d);
    }
    client = make_session(std::move(a), client_est, protocol::Role::client, client_side,
                          client_config);
    server = make_session(std::move(b), server_est, protocol::Role::server, server_side,
                          server_config);
    client->start();
    server->start();
  }
  // An application connection carried by the client session; returns the app's end.
  net::UniqueFd open(std::uint16_t port = 7, std::string tunnel = "echo") {
    auto [app, local] = must(net::tcp_loopback_pair());
    REQUIRE(net::set_nonblocking(local.get()).ok());
    REQUIRE(client->open_stream(local, OpenTarget{"localhost", port, std::move(tunnel)}));
    return std::move(app);
  }
  ~Tunnel() {
    client->close(Reason::ok, "test over");
    echo.stop();
    udp_echo.stop();
    turn_until(reactor(), [&] {
      return client_side.ended && server_side.ended && echo.running == 0 &&
             udp_echo.running == 0 &&
             (!tap || tap->running == 0);
    });
  }
};


// A server session facing a hostile client: the test writes the client's frames itself,
// sealed with the client's real keys, so they reach the server's frame checks.
struct HostilePeer {
  testing::ReactorFixture fixture;
  EchoService echo;
  UdpEchoService udp_echo;
  ServerSide server_side;
  std::unique_ptr<Session> server;
  net::UniqueFd raw;  // the client's end of the connection
  std::unique_ptr<Channel> channel;

  explicit HostilePeer(runtime::BackendChoice backend, std::chrono::milliseconds connect_delay)
      : fixture(backend) {
    server_side.echo = echo.address;
    server_side.udp_echo = udp_echo.address;
    server_side.connect_delay = connect_delay;
    auto client_key = new_key();
    auto server_key = new_key();
    Run run(client_key, server_key);
    auto [client_est, server_est] = run.all();
    auto [a, b] = must(net::tcp_loopback_pair());
    raw = std::move(a);
    server = make_session(std::move(b), server_est, protocol::Role::server, server_side);
    server->start();
    channel = must(AeadChannel::create(client_est, protocol::Role::client, Channel::Clock::now()));
  }
  /// Seals `frames` as one record and writes it to the server.
  void send(const Bytes& frames) {
    const ConstBytes pieces[] = {frames};
    Bytes wire(channel->sealed_size(frames.size()));
    wire.resize(must(channel->seal(pieces, wire, Channel::Clock::now())));
    REQUIRE(write_all(raw.get(), wire));
  }
  /// Until the server session has ended; then the services stop.
  void wait_for_end() {
    turn_until(*fixture.reactor, [&] { return server_side.ended; });
    echo.stop();
    udp_echo.stop();
    turn_until(*fixture.reactor, [&] { return echo.running == 0 && udp_echo.running == 0; });
  }
};

}  // namespace ringtunnel::tunnel::test::session
