// SPDX-License-Identifier: MIT
// Session over a real loopback TCP connection on one reactor: streams, refusals, checks,
// flow control, a stalled reader, a hostile peer. Applications run on their own threads.
#include "tunnel/session.hpp"

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
#include "tunnel_test_support.hpp"

using namespace ringtunnel;
using namespace ringtunnel::tunnel;
using namespace ringtunnel::tunnel::test;
using namespace std::chrono_literals;
using protocol::Reason;
using runtime::Task;

namespace {

// Turns the reactor until `done()` or the limit (then the test fails).
void turn_until(runtime::Reactor& reactor, const std::function<bool()>& done,
                std::chrono::milliseconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    reactor.run_once(std::chrono::milliseconds(5));
  }
  REQUIRE(done());
}

Bytes random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

// Blocking helpers for the application threads.
bool write_all(int fd, std::span<const std::byte> data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return true;
}
Bytes read_to_eof(int fd) {
  Bytes out;
  std::byte chunk[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    out.insert(out.end(), chunk, chunk + n);
  }
  return out;
}
void set_receive_timeout(int fd, std::chrono::milliseconds timeout) {
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

// The server's handler: port 1 is refused by "policy", everything else goes to the echo service.
struct ServerSide : SessionHandler {
  net::SocketAddress echo;
  bool ended = false;
  std::error_code why;
  int connects = 0;
  std::chrono::milliseconds connect_delay{0};  // holds each upstream connect this long

  void on_open_request(Session& session, Stream& stream, const protocol::Open& open) override {
    if (open.port == 1) {
      session.refuse(stream, Reason::port_not_allowed, "port 1 is not allowed by this server");
      return;
    }
    if (open.kind == protocol::kOpenKindTcpCheck) {
      session.accept(stream, {});
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

std::unique_ptr<Session> make_session(net::UniqueFd fd, const Established& established,
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
    turn_until(reactor(), [&] {
      return client_side.ended && server_side.ended && echo.running == 0 &&
             (!tap || tap->running == 0);
    });
  }
};

}  // namespace

TEST_CASE("a stream carries bytes both ways, then half-closes cleanly", "[tunnel][session]") {
  Tunnel t(testing::each_backend());
  net::UniqueFd app = t.open();
  const Bytes payload = random_bytes(3 << 20, 1);
  Bytes echoed;
  std::atomic<bool> done{false};
  std::thread user([&] {
    std::thread writer([&] {
      REQUIRE(write_all(app.get(), payload));
      ::shutdown(app.get(), SHUT_WR);  // half-close: the echo still comes back
    });
    echoed = read_to_eof(app.get());
    writer.join();
    done = true;
  });
  turn_until(t.reactor(), [&] { return done.load(); });
  user.join();
  CHECK(echoed == payload);
  turn_until(t.reactor(), [&] { return t.client->stream_count() == 0 && t.server->stream_count() == 0; });
  CHECK(t.client->stats().streams_opened == 1);
  CHECK(t.server->stats().bytes_in == payload.size());
  CHECK(t.client->stats().bytes_in == payload.size());
}

TEST_CASE("many streams share one session, every byte checked", "[tunnel][session]") {
  Tunnel t(testing::each_backend());
  constexpr int kStreams = 24;
  std::vector<net::UniqueFd> apps;
  for (int i = 0; i < kStreams; ++i) apps.push_back(t.open());
  std::atomic<int> ok{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> users;
  for (int i = 0; i < kStreams; ++i) {
    users.emplace_back([&, i] {
      const Bytes payload = random_bytes(1000 + static_cast<std::size_t>(i) * 37'000, i + 10);
      std::thread writer([&] {
        write_all(apps[i].get(), payload);
        ::shutdown(apps[i].get(), SHUT_WR);
      });
      const Bytes echoed = read_to_eof(apps[i].get());
      writer.join();
      if (echoed == payload) ++ok;
      ++finished;
    });
  }
  turn_until(t.reactor(), [&] { return finished.load() == kStreams; });
  for (auto& u : users) u.join();
  CHECK(ok.load() == kStreams);
  CHECK(t.client->stats().streams_opened == kStreams);
}

TEST_CASE("a refused stream closes only the application's connection", "[tunnel][session]") {
  Tunnel t(testing::each_backend());
  net::UniqueFd refused = t.open(1, "ssh");
  net::UniqueFd fine = t.open();
  std::atomic<bool> done{false};
  Bytes from_refused;
  Bytes echoed;
  std::thread user([&] {
    set_receive_timeout(refused.get(), 10s);
    from_refused = read_to_eof(refused.get());  // EOF, no bytes
    const Bytes hello = text("still here");
    write_all(fine.get(), hello);
    ::shutdown(fine.get(), SHUT_WR);
    echoed = read_to_eof(fine.get());
    done = true;
  });
  turn_until(t.reactor(), [&] { return done.load(); });
  user.join();
  CHECK(from_refused.empty());
  CHECK(echoed == text("still here"));
  CHECK(t.client->stats().streams_refused == 1);
  CHECK(t.server->stats().streams_refused == 1);
}

TEST_CASE("check_stream asks the peer's policy without connecting", "[tunnel][session]") {
  Tunnel t(testing::each_backend());
  std::string message;
  auto allowed = testing::run(t.reactor(), t.client->check_stream({"localhost", 5432, "db"}, &message));
  CHECK(allowed.ok());
  auto refused = testing::run(t.reactor(), t.client->check_stream({"localhost", 1, "x"}, &message));
  CHECK(refused.error() == Reason::port_not_allowed);
  CHECK(message == "port 1 is not allowed by this server");
  CHECK(t.server_side.connects == 0);
}

TEST_CASE("a stalled reader does not slow another stream of the same session",
          "[tunnel][session]") {
  Tunnel t(testing::each_backend());
  net::UniqueFd stalled = t.open(7, "stalled");
  net::UniqueFd busy = t.open(7, "busy");
  // The stalled application sends a lot and never reads the echo back.
  const int small = 16 * 1024;
  ::setsockopt(stalled.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  std::atomic<bool> stall_writer_done{false};
  std::thread stall_writer([&] {
    const Bytes junk = random_bytes(8 << 20, 2);
    write_all(stalled.get(), junk);  // blocks once everything on the way is full
    stall_writer_done = true;
  });
  const Bytes payload = random_bytes(16 << 20, 3);
  Bytes echoed;
  std::atomic<bool> busy_done{false};
  std::thread user([&] {
    std::thread writer([&] {
      write_all(busy.get(), payload);
      ::shutdown(busy.get(), SHUT_WR);
    });
    echoed = read_to_eof(busy.get());
    writer.join();
    busy_done = true;
  });
  turn_until(t.reactor(), [&] { return busy_done.load(); }, 30s);
  user.join();
  CHECK(echoed == payload);
  // What waits for the stalled application is bounded by its stream's window.
  CHECK(t.client->stats().backlog_resets == 0);
  // Unblock the stalled writer: closing its socket ends the stream.
  ::shutdown(stalled.get(), SHUT_RDWR);
  turn_until(t.reactor(), [&] { return stall_writer_done.load(); });
  stall_writer.join();
}

TEST_CASE("a flipped bit on the wire ends the session, and only the session",
          "[tunnel][session]") {
  Tunnel t(testing::each_backend(), /*tapped=*/true);
  net::UniqueFd app = t.open();
  std::atomic<int> step{0};
  Bytes after;
  std::thread user([&] {
    write_all(app.get(), text("ping"));
    std::byte four[4];
    ::recv(app.get(), four, 4, MSG_WAITALL);  // the stream works
    step = 1;
    while (step.load() != 2) std::this_thread::sleep_for(1ms);
    write_all(app.get(), text("pong"));       // its echo crosses the tap, which flips a bit
    after = read_to_eof(app.get());           // the stream is reset, not answered
    step = 3;
  });
  turn_until(t.reactor(), [&] { return step.load() == 1; });
  t.tap->flip_next = true;
  step = 2;
  turn_until(t.reactor(), [&] { return step.load() == 3 && t.client_side.ended; });
  user.join();
  CHECK(after.empty());
  CHECK(t.client_side.why == Reason::decrypt_failed);
  // The server learns through the client's CLOSE or the connection's end, and ends cleanly.
  turn_until(t.reactor(), [&] { return t.server_side.ended; });
}

TEST_CASE("early data: the first bytes and even the FIN travel before OPEN_OK, none lost",
          "[tunnel][session]") {
  Tunnel t(testing::each_backend());
  t.server_side.connect_delay = 100ms;  // the upstream is slow: early data must wait for it
  // A short request and its end (a typical request/response client), and a longer upload
  // that only partly fits in the early allowance.
  const Bytes request = random_bytes(1000, 4);
  const Bytes upload = random_bytes(64 * 1024, 5);
  net::UniqueFd short_app = t.open();
  net::UniqueFd long_app = t.open();
  Bytes short_echo;
  Bytes long_echo;
  std::atomic<int> finished{0};
  std::thread short_user([&] {
    write_all(short_app.get(), request);
    ::shutdown(short_app.get(), SHUT_WR);
    short_echo = read_to_eof(short_app.get());
    ++finished;
  });
  std::thread long_user([&] {
    std::thread writer([&] {
      write_all(long_app.get(), upload);
      ::shutdown(long_app.get(), SHUT_WR);
    });
    long_echo = read_to_eof(long_app.get());
    writer.join();
    ++finished;
  });
  turn_until(t.reactor(), [&] { return finished.load() == 2; });
  short_user.join();
  long_user.join();
  CHECK(short_echo == request);
  CHECK(long_echo == upload);
  // Everything of the short stream and the first 4 KiB of the long one came early.
  CHECK(t.server->stats().early_bytes_in == request.size() + protocol::kEarlyDataLimit);
  CHECK(t.server->stats().bytes_in == request.size() + upload.size());
}

TEST_CASE("early data for a refused stream is dropped; the session goes on",
          "[tunnel][session]") {
  Tunnel t(testing::each_backend());
  net::UniqueFd refused = t.open(1, "ssh");
  std::atomic<bool> done{false};
  Bytes from_refused;
  std::thread user([&] {
    write_all(refused.get(), text("sent before the refusal"));
    set_receive_timeout(refused.get(), 10s);
    from_refused = read_to_eof(refused.get());
    done = true;
  });
  turn_until(t.reactor(), [&] { return done.load() && t.server->stream_count() == 0; });
  user.join();
  CHECK(from_refused.empty());
  CHECK(t.server->buffered_bytes() == 0);
  net::UniqueFd fine = t.open();
  std::atomic<bool> echoed_ok{false};
  std::thread second([&] {
    write_all(fine.get(), text("after"));
    ::shutdown(fine.get(), SHUT_WR);
    echoed_ok = read_to_eof(fine.get()) == text("after");
  });
  turn_until(t.reactor(), [&] { return echoed_ok.load(); });
  second.join();
  CHECK_FALSE(t.server_side.ended);
}

TEST_CASE("a peer sending more early data than allowed loses its session (flow_control)",
          "[tunnel][session]") {
  testing::ReactorFixture fixture(testing::each_backend());
  EchoService echo;
  ServerSide server_side;
  server_side.echo = echo.address;
  server_side.connect_delay = 2s;  // OPEN_OK cannot come in time to make the data legal
  auto client_key = new_key();
  auto server_key = new_key();
  Run run(client_key, server_key);
  auto [client_est, server_est] = run.all();
  auto [raw, b] = must(net::tcp_loopback_pair());
  auto server = make_session(std::move(b), server_est, protocol::Role::server, server_side);
  server->start();
  // The hostile client: OPEN, then 4096 + 1 bytes of DATA at once.
  auto channel = must(AeadChannel::create(client_est, protocol::Role::client, Channel::Clock::now()));
  Bytes frames;
  protocol::ByteWriter out(frames);
  REQUIRE(protocol::append_frame(out, 1, protocol::Open{protocol::kOpenKindTcp, 1u << 20, 7,
                                                        "localhost", "greedy"}).ok());
  const Bytes too_much(protocol::kEarlyDataLimit + 1, std::byte{'x'});
  REQUIRE(protocol::append_data_frame(out, 1, too_much).ok());
  const ConstBytes pieces[] = {frames};
  Bytes wire(channel->sealed_size(frames.size()));
  wire.resize(must(channel->seal(pieces, wire, Channel::Clock::now())));
  REQUIRE(write_all(raw.get(), wire));
  turn_until(*fixture.reactor, [&] { return server_side.ended; });
  CHECK(server_side.why == Reason::flow_control);
  echo.stop();
  turn_until(*fixture.reactor, [&] { return echo.running == 0; });
}

TEST_CASE("the heartbeat measures the session's round trip", "[tunnel][session][heartbeat]") {
  SessionConfig fast;
  fast.heartbeat = {.interval = 20ms, .timeout = 5s};
  Tunnel t(testing::each_backend(), false, fast);
  turn_until(t.reactor(), [&] { return t.client->stats().pongs_matched >= 3; }, 5s);
  CHECK(t.client->stats().pings_sent >= 3);
  REQUIRE(t.client->rtt());
  CHECK(*t.client->rtt() > std::chrono::nanoseconds(0));
  CHECK(*t.client->rtt() < std::chrono::nanoseconds(1s));
  CHECK_FALSE(t.server->rtt());  // the server's own PING is 15 s away
}

TEST_CASE("a peer that goes silent is declared dead after the timeout (idle_timeout)",
          "[tunnel][session][heartbeat]") {
  SessionConfig client_config;
  client_config.heartbeat = {.interval = 50ms, .timeout = 400ms};
  Tunnel t(testing::each_backend(), /*tapped=*/true, client_config);
  net::UniqueFd app = t.open();
  std::atomic<bool> echoed{false};
  Bytes after;
  std::atomic<bool> reset_seen{false};
  std::thread user([&] {
    write_all(app.get(), text("ping"));
    std::byte four[4];
    echoed = ::recv(app.get(), four, 4, MSG_WAITALL) == 4;
    set_receive_timeout(app.get(), 10s);
    after = read_to_eof(app.get());  // the stream ends with the session
    reset_seen = true;
  });
  turn_until(t.reactor(), [&] { return echoed.load(); });
  // Busy and answered: alive well past the timeout.
  const auto alive_until = std::chrono::steady_clock::now() + 800ms;
  turn_until(t.reactor(), [&] { return std::chrono::steady_clock::now() >= alive_until; });
  CHECK_FALSE(t.client_side.ended);
  t.tap->black_hole = true;
  const auto silent_from = std::chrono::steady_clock::now();
  turn_until(t.reactor(), [&] { return t.client_side.ended; }, 5s);
  const auto took = std::chrono::steady_clock::now() - silent_from;
  CHECK(t.client_side.why == Reason::idle_timeout);
  CHECK(took >= 350ms);  // the timeout (less one check period of sampling)
  CHECK(took < 2s);
  turn_until(t.reactor(), [&] { return reset_seen.load(); });
  user.join();
  CHECK(after.empty());
}

TEST_CASE("drain: GOAWAY stops new streams, open ones finish, then the session closes",
          "[tunnel][session]") {
  Tunnel t(testing::each_backend());
  net::UniqueFd app = t.open();
  std::atomic<int> step{0};
  Bytes echoed;
  const Bytes second_half = random_bytes(200'000, 6);
  std::thread user([&] {
    write_all(app.get(), text("first half"));
    std::byte ten[10];
    ::recv(app.get(), ten, sizeof ten, MSG_WAITALL);
    step = 1;
    while (step.load() != 2) std::this_thread::sleep_for(1ms);
    write_all(app.get(), second_half);  // still carried while the server drains
    ::shutdown(app.get(), SHUT_WR);
    echoed = read_to_eof(app.get());
    step = 3;
  });
  turn_until(t.reactor(), [&] { return step.load() == 1; });
  t.server->drain(Reason::shutting_down, "test drain");
  turn_until(t.reactor(), [&] { return !t.client->accepting_streams(); });
  CHECK(t.server->draining());
  step = 2;
  turn_until(t.reactor(), [&] { return step.load() == 3; });
  user.join();
  CHECK(echoed == second_half);
  // The last stream's end lets the server close by itself.
  turn_until(t.reactor(), [&] { return t.server_side.ended && t.client_side.ended; });
  CHECK_FALSE(t.server_side.why);
}
