// SPDX-License-Identifier: MIT
// UDP flows over a real session on one reactor: datagram boundaries, early datagrams, drops
// that are counted and never split, credit, drain, a hostile peer.
#include <sys/socket.h>

#include <optional>

#include "session_fixture.hpp"

using namespace ringtunnel;
using namespace ringtunnel::tunnel;
using namespace ringtunnel::tunnel::test;
using namespace ringtunnel::tunnel::test::session;
using namespace std::chrono_literals;
using protocol::Reason;

namespace {

// One flow as the client's relay would set it up: `relay` is the tunnel's local socket, which
// sends the server's datagrams to the application's socket `app`. The test plays the relay's
// receiving half by calling send_datagram itself.
struct Flow {
  net::UniqueFd app;
  net::UniqueFd relay;
  Stream* stream = nullptr;
  bool released = false;
  Reason why = Reason::ok;

  Flow() = default;
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;
  // The stream tells its owner when it goes: a flow that goes first ends its stream (as the
  // client's relay does), or the session would tell freed memory.
  ~Flow() {
    if (stream != nullptr) stream->abort(Reason::stream_reset, true);
  }

  static void on_released(void* owner, Stream&, Reason why) {
    auto* flow = static_cast<Flow*>(owner);
    flow->released = true;
    flow->why = why;
    flow->stream = nullptr;
  }
};

std::unique_ptr<Flow> open_flow(Tunnel& t) {
  auto flow = std::make_unique<Flow>();
  flow->app = must(net::bind_udp(net::SocketAddress::loopback_v4(0), net::ReusePort::no));
  flow->relay = must(net::bind_udp(net::SocketAddress::loopback_v4(0), net::ReusePort::no));
  const net::SocketAddress app = must(net::local_address(flow->app.get()));
  DatagramPath path;
  path.fd = flow->relay.get();
  std::memcpy(&path.to, app.sockaddr(), app.length());
  path.to_len = app.length();
  path.released = &Flow::on_released;
  path.owner = flow.get();
  flow->stream = t.client->open_datagram_stream(OpenTarget{"localhost", 53, "dns"}, path);
  REQUIRE(flow->stream != nullptr);
  return flow;
}

// The next datagram the application gets (turning the reactor meanwhile), or nullopt.
std::optional<Bytes> next_datagram(Tunnel& t, Flow& flow, std::chrono::milliseconds limit = 10s) {
  Bytes buffer(65536);
  std::optional<Bytes> got;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!got && std::chrono::steady_clock::now() < deadline) {
    const ssize_t n = ::recv(flow.app.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n >= 0) {
      got = Bytes(buffer.begin(), buffer.begin() + n);
      break;
    }
    t.reactor().run_once(std::chrono::milliseconds(2));
  }
  return got;
}

}  // namespace

TEST_CASE("a UDP flow keeps datagram boundaries both ways, from 0 to 65,507 bytes",
          "[tunnel][session][udp]") {
  Tunnel t(testing::each_backend());
  auto flow = open_flow(t);
  std::vector<std::size_t> sizes = {1, 0, 2, 1399, 1400, 4096, 4097, 65000, protocol::kMaxDatagram};
  for (unsigned i = 0; i < 40; ++i) sizes.push_back((i * 7919u * 13u) % (protocol::kMaxDatagram + 1));
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const Bytes datagram = random_bytes(sizes[i], static_cast<unsigned>(i + 1));
    flow->stream->send_datagram(datagram);
    auto echoed = next_datagram(t, *flow);
    REQUIRE(echoed.has_value());
    CHECK(echoed->size() == datagram.size());
    CHECK(*echoed == datagram);
  }
  // A burst within the window arrives whole and in order (loopback does not reorder).
  std::vector<Bytes> burst;
  for (unsigned i = 0; i < 20; ++i) burst.push_back(random_bytes(1000 + i * 3000, 100 + i));
  for (const Bytes& datagram : burst) flow->stream->send_datagram(datagram);
  for (const Bytes& datagram : burst) {
    auto echoed = next_datagram(t, *flow);
    REQUIRE(echoed.has_value());
    CHECK(*echoed == datagram);
  }
  CHECK(t.client->stats().datagrams_out == sizes.size() + burst.size());
  CHECK(t.client->stats().datagrams_in == sizes.size() + burst.size());
  CHECK(t.client->stats().datagram_drops.total() == 0);
  CHECK(t.server->stats().datagram_drops.total() == 0);
  CHECK(t.client->stats().flows_opened == 1);
  CHECK(t.server->stats().flows_accepted == 1);
}

TEST_CASE("a datagram larger than the peer's max_frame is dropped and counted, never split",
          "[tunnel][session][udp]") {
  SessionConfig client_config;
  client_config.peer_max_frame = 2000;
  Tunnel t(testing::each_backend(), false, client_config);
  auto flow = open_flow(t);
  flow->stream->send_datagram(random_bytes(2001, 1));
  const Bytes fits = random_bytes(2000, 2);
  flow->stream->send_datagram(fits);
  auto echoed = next_datagram(t, *flow);
  REQUIRE(echoed.has_value());
  CHECK(*echoed == fits);  // the first never arrives, not even in part
  CHECK(t.client->stats().datagram_drops.too_large == 1);
  CHECK(t.client->stats().datagrams_out == 1);
}

TEST_CASE("early datagrams travel before OPEN_OK; larger ones wait for it; order holds",
          "[tunnel][session][udp]") {
  Tunnel t(testing::each_backend());
  t.server_side.connect_delay = 300ms;
  auto flow = open_flow(t);
  const std::vector<Bytes> datagrams = {random_bytes(100, 1), random_bytes(200, 2),
                                        random_bytes(5000, 3), random_bytes(300, 4)};
  for (const Bytes& datagram : datagrams) flow->stream->send_datagram(datagram);
  for (const Bytes& datagram : datagrams) {
    auto echoed = next_datagram(t, *flow);
    REQUIRE(echoed.has_value());
    CHECK(*echoed == datagram);
  }
  // The first two went early; the 5000-byte one did not fit the 4 KiB allowance, and the one
  // after it waited behind it.
  CHECK(t.server->stats().early_bytes_in == 300);
}

TEST_CASE("a UDP flow's credit: datagrams beyond the window are dropped, then flow resumes",
          "[tunnel][session][udp]") {
  SessionConfig server_config;
  server_config.receive_window = 8192;  // what the server grants each stream in OPEN_OK
  Tunnel t(testing::each_backend(), false, {}, server_config);
  auto flow = open_flow(t);
  // Before OPEN_OK: the first goes early (4000 of the 4096 allowed), the next two are held.
  // OPEN_OK grants 8192, of which 4000 are spent: the second fits, the third does not.
  const Bytes first = random_bytes(4000, 1);
  const Bytes second = random_bytes(4000, 2);
  flow->stream->send_datagram(first);
  flow->stream->send_datagram(second);
  flow->stream->send_datagram(random_bytes(4000, 3));
  CHECK(*next_datagram(t, *flow) == first);
  CHECK(*next_datagram(t, *flow) == second);
  CHECK(t.client->stats().datagram_drops.no_room == 1);
  // The server returns credit as it sends datagrams on: later ones get through.
  for (unsigned i = 0; i < 10; ++i) {
    const Bytes more = random_bytes(3000, 10 + i);
    flow->stream->send_datagram(more);
    auto echoed = next_datagram(t, *flow);
    REQUIRE(echoed.has_value());
    CHECK(*echoed == more);
  }
  CHECK(t.client->stats().datagram_drops.no_room == 1);
}

TEST_CASE("drain ends UDP flows at once; TCP streams go on", "[tunnel][session][udp]") {
  Tunnel t(testing::each_backend());
  auto flow = open_flow(t);
  const Bytes hello = text("hello");
  flow->stream->send_datagram(hello);
  CHECK(*next_datagram(t, *flow) == hello);
  net::UniqueFd app = t.open();
  turn_until(t.reactor(), [&] { return t.server->stream_count() == 2; });  // both are open there
  t.server->drain(Reason::shutting_down, "test drain");
  turn_until(t.reactor(), [&] { return flow->released; });
  CHECK(flow->why == Reason::shutting_down);
  // The TCP stream opened before the GOAWAY still works.
  CHECK(echo_through(t.reactor(), app.get(), text("still flowing")) == text("still flowing"));
}

TEST_CASE("a hostile peer: early datagrams past 16 are dropped; FIN on a UDP flow ends the "
          "session (protocol_error)",
          "[tunnel][session][udp]") {
  HostilePeer peer(testing::each_backend(), 2s);  // every frame arrives while it is accepting
  Bytes frames;
  protocol::ByteWriter out(frames);
  REQUIRE(protocol::append_frame(out, 1, protocol::Open{protocol::kOpenKindUdp, 1u << 20, 53,
                                                        "localhost", "dns"}).ok());
  for (int i = 0; i < 20; ++i) REQUIRE(protocol::append_data_frame(out, 1, {}).ok());
  REQUIRE(protocol::append_frame(out, 1, protocol::Fin{}).ok());
  peer.send(frames);
  peer.wait_for_end();
  CHECK(peer.server_side.why == Reason::protocol_error);
  CHECK(peer.server->stats().datagram_drops.no_room == 20 - protocol::kMaxEarlyDatagrams);
}

TEST_CASE("zero-byte datagrams take no credit but cannot queue without bound",
          "[tunnel][session][udp]") {
  Tunnel t(testing::each_backend());
  auto flow = open_flow(t);
  const Bytes hello = text("hello");
  flow->stream->send_datagram(hello);
  REQUIRE(*next_datagram(t, *flow) == hello);  // the flow is open: no early-data limits apply
  // A burst with no turn of the reactor in between: nothing is sent meanwhile, so the writer's
  // queue holds them all, each costing its bookkeeping against the 4 MiB cap.
  constexpr std::size_t kBurst = 200'000;
  const std::size_t fit =
      SessionWriter::kMaxQueuedDatagramBytes / SessionWriter::kDatagramOverhead;
  for (std::size_t i = 0; i < kBurst; ++i) flow->stream->send_datagram({});
  CHECK(t.client->stats().datagrams_out == 1 + fit);
  CHECK(t.client->stats().datagram_drops.no_room == kBurst - fit);
}
