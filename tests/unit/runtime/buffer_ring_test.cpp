// SPDX-License-Identifier: MIT
// Provided buffers: exhaustion becomes back-pressure, and every byte arrives once buffers return.
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "net/socket.hpp"
#include "reactor_fixture.hpp"
#include "runtime/io.hpp"
#include "runtime/receiver.hpp"

using namespace ringtunnel;
using namespace std::chrono_literals;
using runtime::Task;

namespace {
struct Reader {
  std::string data;
  std::vector<runtime::Buffer> held;  // buffers kept out of the ring while `hold` is set
  bool eof = false;
};

Task<void> read_holding(int fd, Reader& reader, const bool& hold) {
  runtime::Receiver rx(fd);
  for (;;) {
    auto b = co_await rx.receive();
    REQUIRE(b.ok());
    if (b->empty()) break;
    reader.data.append(reinterpret_cast<const char*>(b->bytes().data()), b->size());
    if (hold) reader.held.push_back(std::move(*b));
  }
  reader.eof = true;
}

std::string pattern(std::size_t n, int seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + seed) & 0xff);
  return s;
}
}  // namespace

TEST_CASE("an exhausted buffer ring pauses receivers and recovers without losing bytes",
          "[buffers]") {
  auto backend = testing::each_backend();
  INFO(testing::name_of(backend));
  // A tiny ring: 4 buffers of 1 KiB for 8 sockets that each get 16 KiB.
  testing::ReactorFixture f(backend, runtime::ReactorOptions{.buffer_count = 4, .buffer_size = 1024});
  auto& ring = f.reactor->buffers();
  constexpr int kSockets = 8;
  constexpr std::size_t kBytes = 16 * 1024;
  std::vector<std::pair<net::UniqueFd, net::UniqueFd>> pairs;
  std::vector<Reader> readers(kSockets);
  bool hold = true;
  for (int i = 0; i < kSockets; ++i) {
    auto p = net::tcp_loopback_pair();
    REQUIRE(p.ok());
    pairs.push_back(std::move(*p));
    runtime::spawn(read_holding(pairs.back().first.get(), readers[i], hold));
    auto payload = pattern(kBytes, i);
    REQUIRE(::send(pairs.back().second.get(), payload.data(), payload.size(), 0) ==
            static_cast<ssize_t>(kBytes));
    shutdown(pairs.back().second.get(), SHUT_WR);
  }
  // Let the readers run until the ring is empty.
  for (int i = 0; i < 200 && ring.available() > 0; ++i) f.reactor->run_once(5ms);
  for (int i = 0; i < 20; ++i) f.reactor->run_once(1ms);
  CHECK(ring.available() == 0);
  CHECK(ring.exhaustions() > 0);
  std::size_t received_while_held = 0;
  for (auto& r : readers) received_while_held += r.data.size();
  CHECK(received_while_held <= 4 * 1024);  // no more than the ring could hold
  // Give the buffers back: everything must now flow to the end.
  hold = false;
  for (auto& r : readers) r.held.clear();
  auto all_done = [&] {
    for (auto& r : readers) {
      if (!r.eof) return false;
    }
    return true;
  };
  for (int i = 0; i < 2000 && !all_done(); ++i) f.reactor->run_once(5ms);
  REQUIRE(all_done());
  for (int i = 0; i < kSockets; ++i) CHECK(readers[i].data == pattern(kBytes, i));
  CHECK(ring.available() == ring.count());
}
