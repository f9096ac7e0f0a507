// SPDX-License-Identifier: MIT
// Socket operations on both backends: connect, accept, send/receive, timeouts, cancellation.
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "net/socket.hpp"
#include "reactor_fixture.hpp"
#include "runtime/acceptor.hpp"
#include "runtime/cancellation.hpp"
#include "runtime/io.hpp"
#include "runtime/receiver.hpp"

using namespace ringtunnel;
using namespace std::chrono_literals;
using runtime::Task;

namespace {
std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

struct Listener {
  net::UniqueFd fd;
  net::SocketAddress address;
  Listener() {
    auto l = net::listen_tcp(*net::SocketAddress::parse("127.0.0.1:0"), net::ReusePort::no);
    REQUIRE(l.ok());
    fd = std::move(*l);
    address = *net::local_address(fd.get());
  }
};

Task<Result<net::UniqueFd>> dial(const net::SocketAddress& to) {
  auto s = net::tcp_socket(to.family());
  if (!s) co_return s.error();
  auto c = co_await runtime::connect(s->get(), to, {.timeout = 5s});
  if (!c) co_return c.error();
  co_return std::move(*s);
}

// Reads everything until EOF through a Receiver.
Task<std::string> read_all(int fd) {
  runtime::Receiver rx(fd);
  std::string out;
  for (;;) {
    auto b = co_await rx.receive();
    REQUIRE(b.ok());
    if (b->empty()) break;
    out.append(reinterpret_cast<const char*>(b->bytes().data()), b->size());
  }
  co_return out;
}
}  // namespace

TEST_CASE("connect, accept, send and receive through the runtime", "[io]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  testing::ReactorFixture f(backend);
  Listener l;
  auto t = [](Listener& listener) -> Task<std::string> {
    runtime::Acceptor acceptor(listener.fd.get());
    auto client = co_await dial(listener.address);
    REQUIRE(client.ok());
    auto server = co_await acceptor.accept();
    REQUIRE(server.ok());
    // A tiny send buffer forces short sends, so send_all must resubmit the rest many times.
    const int small = 4096;
    REQUIRE(setsockopt(client->get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
    std::string payload(1'000'000, 'x');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
    // The reader runs concurrently: the payload is far larger than the socket buffers.
    std::string got;
    bool read_done = false;
    runtime::spawn([](int fd, std::string& out, bool& done) -> Task<void> {
      out = co_await read_all(fd);
      done = true;
    }(server->get(), got, read_done));
    auto sent = co_await runtime::send_all(client->get(), as_bytes(payload));
    REQUIRE(sent.ok());
    shutdown(client->get(), SHUT_WR);
    while (!read_done) (void)co_await runtime::sleep(1ms);
    CHECK(got == payload);
    co_return got.substr(0, 5);
  };
  CHECK(testing::run(*f.reactor, t(l)) == "abcde");
}

TEST_CASE("multishot accept takes a burst of connections", "[io]") {
  testing::ReactorFixture f(testing::each_backend());
  Listener l;
  std::vector<net::UniqueFd> clients;
  for (int i = 0; i < 64; ++i) {
    auto c = net::connect_tcp_blocking(l.address);
    REQUIRE(c.ok());
    clients.push_back(std::move(*c));
  }
  auto t = [](int fd) -> Task<int> {
    runtime::Acceptor acceptor(fd);
    int accepted = 0;
    for (int i = 0; i < 64; ++i) {
      auto c = co_await acceptor.accept();
      REQUIRE(c.ok());
      accepted += c->get() >= 0;
    }
    co_return accepted;
  };
  CHECK(testing::run(*f.reactor, t(l.fd.get())) == 64);
}

TEST_CASE("connecting to a closed port fails with ECONNREFUSED", "[io]") {
  testing::ReactorFixture f(testing::each_backend());
  net::SocketAddress closed;
  {
    Listener l;
    closed = l.address;
  }  // the port is closed again here
  auto r = testing::run(*f.reactor, dial(closed));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == std::errc::connection_refused);
}

TEST_CASE("a receive with a timeout ends with ETIMEDOUT", "[io][cancel]") {
  testing::ReactorFixture f(testing::each_backend());
  auto pair = net::tcp_loopback_pair();
  REQUIRE(pair.ok());
  auto t = [](int fd) -> Task<std::error_code> {
    std::array<std::byte, 64> buf{};
    auto r = co_await runtime::recv(fd, buf, {.timeout = 50ms});
    co_return r.error();
  };
  auto start = runtime::Clock::now();
  CHECK(testing::run(*f.reactor, t(pair->first.get())) == std::errc::timed_out);
  CHECK(runtime::Clock::now() - start >= 50ms);
}

TEST_CASE("a pending receive is cancelled by its Cancellation", "[io][cancel]") {
  testing::ReactorFixture f(testing::each_backend());
  auto pair = net::tcp_loopback_pair();
  REQUIRE(pair.ok());
  runtime::Cancellation cancel;
  runtime::spawn([](runtime::Cancellation& c) -> Task<void> {
    (void)co_await runtime::sleep(20ms);
    c.cancel();
  }(cancel));
  auto t = [](int fd, runtime::Cancellation& c) -> Task<std::error_code> {
    std::array<std::byte, 64> buf{};
    auto r = co_await runtime::recv(fd, buf, {.cancellation = &c});
    co_return r.error();
  };
  CHECK(testing::run(*f.reactor, t(pair->first.get(), cancel)) == std::errc::operation_canceled);
}

TEST_CASE("Receiver::stop ends a pending receive and a destroyed Receiver is safe", "[io][cancel]") {
  testing::ReactorFixture f(testing::each_backend());
  auto pair = net::tcp_loopback_pair();
  REQUIRE(pair.ok());
  auto t = [](int fd) -> Task<std::error_code> {
    runtime::Receiver rx(fd);
    runtime::Receiver* target = &rx;
    runtime::spawn([](runtime::Receiver& r) -> Task<void> {
      (void)co_await runtime::sleep(20ms);
      r.stop();
    }(*target));
    auto b = co_await rx.receive();
    co_return b.error();
  };
  CHECK(testing::run(*f.reactor, t(pair->first.get())) == std::errc::operation_canceled);
  // Receive once (the multishot stays armed), then destroy the Receiver while the kernel still
  // holds its request: the late completion must find valid state and give its buffer back.
  const char first[] = "a";
  REQUIRE(::send(pair->second.get(), first, 1, 0) == 1);
  auto armed_then_dropped = [](int fd) -> Task<std::size_t> {
    runtime::Receiver rx(fd);
    auto b = co_await rx.receive();
    REQUIRE(b.ok());
    co_return b->size();
  };
  CHECK(testing::run(*f.reactor, armed_then_dropped(pair->first.get())) == 1);
  const char msg[] = "late";
  REQUIRE(::send(pair->second.get(), msg, sizeof msg, 0) == sizeof msg);
  for (int i = 0; i < 10; ++i) f.reactor->run_once(5ms);
  CHECK(f.reactor->buffers().available() == f.reactor->buffers().count());
}

namespace {
// A nonblocking UDP socket bound to 127.0.0.1 on an ephemeral port, and that address.
struct UdpSocket {
  net::UniqueFd fd;
  ::sockaddr_in address{};
  UdpSocket() {
    fd = net::UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    REQUIRE(fd.get() >= 0);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd.get(), reinterpret_cast<const ::sockaddr*>(&address), sizeof address) == 0);
    ::socklen_t len = sizeof address;
    REQUIRE(::getsockname(fd.get(), reinterpret_cast<::sockaddr*>(&address), &len) == 0);
    const int big = 4 << 20;  // room for every datagram of the test at once
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  }
  const ::sockaddr* name() const { return reinterpret_cast<const ::sockaddr*>(&address); }
};
}  // namespace

TEST_CASE("datagrams keep their boundaries and their source, up to 65,507 bytes", "[io][udp]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  testing::ReactorFixture f(backend);
  UdpSocket a;
  UdpSocket b;
  auto t = [](UdpSocket& from, UdpSocket& to) -> Task<int> {
    const std::size_t sizes[] = {1, 0, 1472, 9000, 65507};
    std::vector<std::byte> out(65507);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(i * 7);
    for (std::size_t size : sizes) {
      auto sent = co_await runtime::send_to(from.fd.get(), std::span(out).first(size), to.name(),
                                            sizeof to.address);
      REQUIRE(sent.ok());
      CHECK(*sent == size);
    }
    std::vector<std::byte> in(65536);
    int checked = 0;
    for (std::size_t size : sizes) {
      ::sockaddr_storage source{};
      auto got = co_await runtime::recv_from(to.fd.get(), in, &source, {.timeout = 5s});
      REQUIRE(got.ok());
      CHECK(got->size == size);
      CHECK_FALSE(got->truncated);
      CHECK(std::equal(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(size), out.begin()));
      const auto* v4 = reinterpret_cast<const ::sockaddr_in*>(&source);
      CHECK(source.ss_family == AF_INET);
      CHECK(v4->sin_port == from.address.sin_port);
      ++checked;
    }
    // A datagram larger than the buffer is reported, not silently cut.
    (void)co_await runtime::send_to(from.fd.get(), std::span(out).first(3000), to.name(),
                                    sizeof to.address);
    ::sockaddr_storage source{};
    auto small = co_await runtime::recv_from(to.fd.get(), std::span(in).first(1000), &source);
    REQUIRE(small.ok());
    CHECK(small->size == 1000);
    CHECK(small->truncated);
    co_return checked;
  };
  CHECK(testing::run(*f.reactor, t(a, b)) == 5);
}

TEST_CASE("a datagram receive waits for its datagram and honours its timeout", "[io][udp]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  testing::ReactorFixture f(backend);
  UdpSocket a;
  UdpSocket b;
  auto t = [](UdpSocket& from, UdpSocket& to) -> Task<bool> {
    std::vector<std::byte> in(2048);
    ::sockaddr_storage source{};
    auto nothing = co_await runtime::recv_from(to.fd.get(), in, &source, {.timeout = 50ms});
    CHECK(nothing.error() == std::errc::timed_out);
    // The receive is parked first (nothing there yet), then the datagram arrives.
    bool got_it = false;
    runtime::spawn([](UdpSocket& sock, bool& done) -> Task<void> {
      std::vector<std::byte> buffer(2048);
      ::sockaddr_storage peer{};
      auto got = co_await runtime::recv_from(sock.fd.get(), buffer, &peer, {.timeout = 5s});
      done = got.ok() && got->size == 5;
    }(to, got_it));
    (void)co_await runtime::sleep(20ms);
    const std::string hello = "hello";
    auto sent = co_await runtime::send_to(from.fd.get(), as_bytes(hello), to.name(),
                                          sizeof to.address);
    CHECK(sent.ok());
    for (int i = 0; i < 500 && !got_it; ++i) (void)co_await runtime::sleep(1ms);
    co_return got_it;
  };
  CHECK(testing::run(*f.reactor, t(a, b)));
}
