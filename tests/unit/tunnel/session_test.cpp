// SPDX-License-Identifier: MIT
// Session over a real loopback TCP connection on one reactor: streams, refusals, checks,
// flow control, a stalled reader, a hostile peer. Applications run on their own threads.
#include "tunnel/session.hpp"

#include <cstring>

#include "session_fixture.hpp"

using namespace ringtunnel;
using namespace ringtunnel::tunnel;
using namespace ringtunnel::tunnel::test;
using namespace ringtunnel::tunnel::test::session;
using namespace std::chrono_literals;
using protocol::Reason;
using runtime::Task;

TEST_CASE("a stream carries bytes both ways, then half-closes cleanly", "[tunnel][session]") {
  Tunnel t(testing::each_backend());
  net::UniqueFd app = t.open();
  const Bytes payload = random_bytes(3 << 20, 1);
  CHECK(echo_through(t.reactor(), app.get(), payload) == payload);
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

TEST_CASE("a bulk stream beside an interactive one is kept short, yet every byte arrives",
          "[tunnel][session]") {
  // While the ping-pong runs, the bulk stream may keep only Stream::kInteractiveInflight in
  // flight: a credit that never came back would stall it here (the receiver returns credit in
  // kCreditBatch pieces for exactly that reason).
  // The cap scales with the smallest round trip measured; the first PING waits for the test's
  // set-up, so pings every 20 ms bring the loopback figure in before the bulk starts.
  SessionConfig fast;
  fast.heartbeat = {.interval = 20ms, .timeout = 10s};
  Tunnel t(testing::each_backend(), false, fast);
  turn_until(t.reactor(), [&] { return t.client->stats().pongs_matched >= 3; });
  net::UniqueFd bulk = t.open();
  net::UniqueFd interactive = t.open();
  std::atomic<bool> bulk_done{false};
  std::atomic<bool> stop_pinging{false};
  std::atomic<int> pings{0};
  Bytes echoed;
  const Bytes payload = random_bytes(24 << 20, 7);
  std::thread pinger([&] {
    set_receive_timeout(interactive.get(), 10s);
    std::byte ping[64];
    while (!stop_pinging) {
      std::memset(ping, pings.load() & 0xff, sizeof ping);
      if (!write_all(interactive.get(), ping)) break;
      std::byte back[64];
      std::size_t got = 0;
      while (got < sizeof back) {
        const ssize_t n = ::recv(interactive.get(), back + got, sizeof back - got, 0);
        if (n <= 0) return;
        got += static_cast<std::size_t>(n);
      }
      if (std::memcmp(back, ping, sizeof ping) != 0) return;
      ++pings;
    }
  });
  std::thread user([&] {
    std::thread writer([&] {
      write_all(bulk.get(), payload);
      ::shutdown(bulk.get(), SHUT_WR);
    });
    echoed = read_to_eof(bulk.get());
    writer.join();
    bulk_done = true;
  });
  turn_until(t.reactor(), [&] { return bulk_done.load(); }, 60s);
  stop_pinging = true;
  turn_until(t.reactor(), [&] { return pings.load() > 0; });
  user.join();
  ::shutdown(interactive.get(), SHUT_RDWR);
  pinger.join();
  CHECK(echoed == payload);
  CHECK(pings.load() > 10);  // the interactive stream really ran beside the bulk one
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
  HostilePeer peer(testing::each_backend(), 2s);  // OPEN_OK cannot come in time to make it legal
  // The hostile client: OPEN, then 4096 + 1 bytes of DATA at once.
  Bytes frames;
  protocol::ByteWriter out(frames);
  REQUIRE(protocol::append_frame(out, 1, protocol::Open{protocol::kOpenKindTcp, 1u << 20, 7,
                                                        "localhost", "greedy"}).ok());
  const Bytes too_much(protocol::kEarlyDataLimit + 1, std::byte{'x'});
  REQUIRE(protocol::append_data_frame(out, 1, too_much).ok());
  peer.send(frames);
  peer.wait_for_end();
  CHECK(peer.server_side.why == Reason::flow_control);
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
  // The server pings every 15 s, and at the start (then a few probes): it knows the round
  // trip too.
  turn_until(t.reactor(), [&] { return t.server->stats().pongs_matched >= 1; }, 5s);
  CHECK(t.server->stats().pings_sent >= 1);
  REQUIRE(t.server->rtt());
  CHECK(*t.server->rtt() < std::chrono::nanoseconds(1s));
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
