// SPDX-License-Identifier: MIT
// AeadChannel: frames in, records out and back, and the key update it adds by itself.
#include "tunnel/aead_channel.hpp"

#include <catch2/catch.hpp>
#include <chrono>

#include "protocol/payload.hpp"
#include "tunnel_test_support.hpp"

using namespace ringtunnel;
using namespace ringtunnel::tunnel;
using namespace ringtunnel::tunnel::test;
using namespace std::chrono_literals;
using protocol::FrameType;

namespace {

struct Pair {
  std::unique_ptr<AeadChannel> client;
  std::unique_ptr<AeadChannel> server;
  std::unique_ptr<AeadChannel> server_twin;  // the same keys as `server`, driven separately
};

Pair channels(Channel::Clock::time_point now) {
  auto client_key = new_key();
  auto server_key = new_key();
  Run run(client_key, server_key);
  auto [client_est, server_est] = run.all();
  return {must(AeadChannel::create(client_est, protocol::Role::client, now)),
          must(AeadChannel::create(server_est, protocol::Role::server, now)),
          must(AeadChannel::create(server_est, protocol::Role::server, now))};
}

Bytes ping_frame(std::uint64_t opaque) {
  Bytes frame;
  protocol::ByteWriter out(frame);
  REQUIRE(protocol::append_frame(out, 0, protocol::Ping{opaque}).ok());
  return frame;
}

// Seals `frames` on `from`, opens on `to`, returns the frame types found.
std::vector<FrameType> send(AeadChannel& from, AeadChannel& to, const Bytes& frames,
                            Channel::Clock::time_point now) {
  const ConstBytes pieces[] = {frames};
  Bytes wire(from.sealed_size(frames.size()));
  const std::size_t n = must(from.seal(pieces, wire, now));
  wire.resize(n);
  // Arriving in two parts: the first part alone is not a whole unit yet.
  CHECK(must(to.open(std::span(wire).first(n / 2))).consumed == 0);
  const Opened opened = must(to.open(wire));
  CHECK(opened.consumed == n);
  std::vector<FrameType> types;
  protocol::FrameReader reader(opened.frames);
  for (auto next = must(reader.next()); next; next = must(reader.next())) types.push_back(next->type);
  return types;
}

}  // namespace

TEST_CASE("frames sealed by one channel open on the other", "[tunnel][channel]") {
  const auto t0 = Channel::Clock::now();
  Pair p = channels(t0);
  CHECK(send(*p.client, *p.server, ping_frame(1), t0) == std::vector{FrameType::ping});
  CHECK(send(*p.server, *p.client, ping_frame(2), t0) == std::vector{FrameType::ping});
  CHECK(p.client->max_unit() == kMaxRecordSize);
  CHECK(p.client->sealed_size(100) >= 100 + kRecordOverhead);
}

TEST_CASE("a channel adds KEY_UPDATE when its key is due and switches keys after it",
          "[tunnel][channel]") {
  const auto t0 = Channel::Clock::now();
  Pair p = channels(t0);
  const auto later = t0 + 2h;  // past the one-hour key lifetime (§3)
  const Bytes first = ping_frame(1);
  const ConstBytes first_pieces[] = {first};
  Bytes record(p.client->sealed_size(first.size()));
  record.resize(must(p.client->seal(first_pieces, record, later)));
  CHECK(p.client->send_counter() == 0);  // the next record is number 0 under the new key
  Bytes twin_copy = record;
  const Opened opened = must(p.server->open(record));
  protocol::FrameReader reader(opened.frames);
  CHECK(must(reader.next())->type == FrameType::ping);
  CHECK(must(reader.next())->type == FrameType::key_update);
  CHECK_FALSE(must(reader.next()).has_value());
  REQUIRE(must(p.server_twin->open(twin_copy)).consumed == twin_copy.size());
  // The next record is under the new key: it opens after peer_key_update, and only then.
  const Bytes second = ping_frame(2);
  const ConstBytes second_pieces[] = {second};
  Bytes next(p.client->sealed_size(second.size()));
  next.resize(must(p.client->seal(second_pieces, next, later + 1s)));
  Bytes next_copy = next;
  CHECK(p.server_twin->open(next_copy).error() == protocol::Reason::decrypt_failed);
  REQUIRE(p.server->peer_key_update().ok());
  CHECK(must(p.server->open(next)).consumed == next.size());
}

TEST_CASE("a channel refuses a hostile record length before reading the record",
          "[tunnel][channel]") {
  Pair p = channels(Channel::Clock::now());
  Bytes huge = {std::byte{0x7f}, std::byte{0xff}, std::byte{0xff}, std::byte{0xff}};
  CHECK(p.server->open(huge).error() == protocol::Reason::frame_too_large);
  Bytes tiny = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{3}, std::byte{1},
                std::byte{2}, std::byte{3}};
  CHECK(p.server->open(tiny).error() == protocol::Reason::protocol_error);
}
