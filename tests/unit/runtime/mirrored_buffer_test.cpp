// SPDX-License-Identifier: MIT
// MirroredBuffer: the ring appears twice in a row, so data across the wrap reads as one span.
#include "runtime/mirrored_buffer.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <numeric>
#include <vector>

using ringtunnel::runtime::MirroredBuffer;

TEST_CASE("a mirrored buffer rounds up to pages and starts empty", "[runtime][mirrored]") {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  auto ring = MirroredBuffer::create(page + 1);
  REQUIRE(ring.ok());
  CHECK(ring->size() == 2 * page);
  CHECK(ring->used() == 0);
  CHECK(ring->readable().empty());
  CHECK(ring->writable().size() == ring->size());
}

TEST_CASE("bytes written across the end read back as one contiguous span", "[runtime][mirrored]") {
  auto created = MirroredBuffer::create(8192);
  REQUIRE(created.ok());
  MirroredBuffer ring = std::move(created).value();
  const std::size_t size = ring.size();
  std::vector<std::byte> filler(size - 100, std::byte{1});
  std::memcpy(ring.writable().data(), filler.data(), filler.size());
  ring.commit(filler.size());
  ring.consume(filler.size() - 10);  // 10 bytes left, 110 bytes before the physical end
  // 300 bytes now run past the end of the mapping's first copy and wrap to its start.
  std::vector<std::byte> message(300);
  std::iota(reinterpret_cast<unsigned char*>(message.data()),
            reinterpret_cast<unsigned char*>(message.data()) + message.size(), 0);
  REQUIRE(ring.writable().size() >= message.size());
  std::memcpy(ring.writable().data(), message.data(), message.size());
  ring.commit(message.size());
  ring.consume(10);
  const auto readable = ring.readable();
  REQUIRE(readable.size() == message.size());
  CHECK(std::memcmp(readable.data(), message.data(), message.size()) == 0);
  // The wrapped part is the very same memory as the start of the ring.
  CHECK(std::memcmp(readable.data() + 110, message.data() + 110, 190) == 0);
  ring.consume(message.size());
  CHECK(ring.used() == 0);
  CHECK(ring.writable().size() == size);
}

TEST_CASE("a moved mirrored buffer keeps its bytes", "[runtime][mirrored]") {
  auto created = MirroredBuffer::create(4096);
  REQUIRE(created.ok());
  MirroredBuffer a = std::move(created).value();
  std::memcpy(a.writable().data(), "abc", 3);
  a.commit(3);
  MirroredBuffer b = std::move(a);
  CHECK(a.size() == 0);
  REQUIRE(b.used() == 3);
  CHECK(std::memcmp(b.readable().data(), "abc", 3) == 0);
}
