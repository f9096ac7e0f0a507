// SPDX-License-Identifier: MIT
// FrameReader over record plaintexts, frame headers, and the stream id rules of section 3.
#include "protocol/frame.hpp"

#include <catch2/catch.hpp>
#include <vector>

#include "test_bytes.hpp"

using namespace ringtunnel::protocol;
using namespace ringtunnel::protocol::test;
using Catch::Matchers::Contains;

namespace {

Bytes header(uint8_t type, uint8_t flags, uint32_t stream_id, uint32_t length) {
  std::array<std::byte, kFrameHeaderSize> out{};
  write_frame_header(out, static_cast<FrameType>(type), flags, stream_id, length);
  return Bytes(out.begin(), out.end());
}

// Reads every frame of `plaintext`; returns the frames and the error (if any).
std::pair<std::vector<FrameView>, std::error_code> read_all(const Bytes& plaintext) {
  FrameReader reader(plaintext);
  std::vector<FrameView> frames;
  for (;;) {
    auto next = reader.next();
    if (!next.ok()) return {frames, next.error()};
    if (!next->has_value()) return {frames, {}};
    frames.push_back(**next);
  }
}

}  // namespace

TEST_CASE("the frame header is type, flags, stream id and length", "[protocol][frame]") {
  CHECK(header(4, 0, 0x01020304, 0x0a0b0c0d) == hex("04 00 01020304 0a0b0c0d"));
  STATIC_REQUIRE(kFrameHeaderSize == 10);
}

TEST_CASE("frame types, names and scopes follow the table of section 3", "[protocol][frame]") {
  const char* names[] = {"OPEN",  "OPEN_OK", "OPEN_REFUSED", "DATA",   "WINDOW",     "FIN",
                         "RESET", "PING",    "PONG",         "GOAWAY", "KEY_UPDATE", "CLOSE"};
  for (uint8_t t = 1; t <= 12; ++t) {
    CHECK(is_known_frame_type(t));
    CHECK(std::string(to_string(static_cast<FrameType>(t))) == names[t - 1]);
    CHECK(is_session_frame(static_cast<FrameType>(t)) == (t >= 8));
  }
  CHECK_FALSE(is_known_frame_type(0));
  CHECK_FALSE(is_known_frame_type(13));
  CHECK(std::string(to_string(static_cast<FrameType>(42))) == "unknown");
}

TEST_CASE("FrameReader walks back-to-back frames and views their payloads", "[protocol][frame]") {
  const Bytes plaintext = cat({header(4, 0, 1, 3), hex("aabbcc"),  // DATA on stream 1
                               header(8, 0, 0, 8), fill(8, 7),     // PING
                               header(6, 0, 3, 0)});               // FIN on stream 3
  const auto [frames, error] = read_all(plaintext);
  REQUIRE_FALSE(error);
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].type == FrameType::data);
  CHECK(frames[0].stream_id == 1);
  CHECK(frames[0].payload.data() == plaintext.data() + 10);
  CHECK(Bytes(frames[0].payload.begin(), frames[0].payload.end()) == hex("aabbcc"));
  CHECK(frames[1].type == FrameType::ping);
  CHECK(frames[1].payload.size() == 8);
  CHECK(frames[2].type == FrameType::fin);
  CHECK(frames[2].payload.empty());
}

TEST_CASE("FrameReader accepts a payload of exactly 65536 bytes", "[protocol][frame]") {
  const Bytes plaintext = cat({header(4, 0, 1, 65536), fill(65536, 0x5a)});
  const auto [frames, error] = read_all(plaintext);
  REQUIRE_FALSE(error);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].payload.size() == 65536);
}

TEST_CASE("an empty record plaintext is a protocol error", "[protocol][frame]") {
  const auto [frames, error] = read_all(Bytes{});
  CHECK(error == Reason::protocol_error);
  CHECK(error.message() == "record plaintext holds no frames (protocol_error)");
}

TEST_CASE("a record cut at every byte is a protocol error", "[protocol][frame]") {
  const Bytes full = cat({header(1, 0, 5, 12), fill(12, 0x61)});
  for (std::size_t n = 1; n < full.size(); ++n) {
    INFO("cut at " << n);
    const auto [frames, error] =
        read_all(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)));
    CHECK(frames.empty());
    CHECK(error == Reason::protocol_error);
    if (n < kFrameHeaderSize) {
      CHECK(error.message() == "frame header is truncated: " + std::to_string(n) +
                                   " of 10 bytes left (protocol_error)");
    } else {
      CHECK(error.message() ==
            "frame payload of 12 bytes runs past the record's end (protocol_error)");
    }
  }
  // A good frame followed by a cut one: the good one is returned first.
  const auto [frames, error] = read_all(cat({full, hex("08 00 00")}));
  CHECK(frames.size() == 1);
  CHECK(error.message() == "frame header is truncated: 3 of 10 bytes left (protocol_error)");
}

TEST_CASE("unknown frame types are protocol errors", "[protocol][frame]") {
  for (uint8_t type : {0, 13, 42, 255}) {
    const auto [frames, error] = read_all(header(type, 0, 1, 0));
    CHECK(error == Reason::protocol_error);
    CHECK(error.message() == "frame type " + std::to_string(type) + " is unknown (protocol_error)");
  }
}

TEST_CASE("non-zero flags are protocol errors in version 1", "[protocol][frame]") {
  const auto [frames, error] = read_all(header(4, 0x80, 1, 0));
  CHECK(error == Reason::protocol_error);
  CHECK(error.message() == "frame flags are 128; version 1 defines none (protocol_error)");
}

TEST_CASE("stream frames on stream 0 are protocol errors", "[protocol][frame]") {
  for (uint8_t type = 1; type <= 7; ++type) {
    const auto [frames, error] = read_all(header(type, 0, 0, 0));
    CHECK(error == Reason::protocol_error);
    CHECK_THAT(error.message(), Contains("stream frame ") && Contains("on stream 0"));
  }
  const auto [frames, error] = read_all(header(4, 0, 0, 0));
  CHECK(error.message() == "stream frame DATA (type 4) on stream 0 (protocol_error)");
}

TEST_CASE("session frames on a stream are protocol errors", "[protocol][frame]") {
  for (uint8_t type = 8; type <= 12; ++type) {
    const auto [frames, error] = read_all(header(type, 0, 2, 0));
    CHECK(error == Reason::protocol_error);
    CHECK_THAT(error.message(), Contains("session frame ") && Contains("on a stream"));
  }
  const auto [frames, error] = read_all(header(12, 0, 0xffffffff, 0));
  CHECK(error.message() ==
        "session frame CLOSE (type 12) on a stream; it belongs on stream 0 (protocol_error)");
}

TEST_CASE("a payload over 65536 bytes is frame_too_large", "[protocol][frame]") {
  const auto [frames, error] = read_all(cat({header(4, 0, 1, 65537), fill(65537, 0)}));
  CHECK(error == Reason::frame_too_large);
  CHECK(error.message() == "frame payload is 65537 bytes; the limit is 65536 (frame_too_large)");
  // Checked before the record's end: a huge length in a short record is still too large.
  const auto [frames2, error2] = read_all(header(4, 0, 1, 0xffffffff));
  CHECK(error2 == Reason::frame_too_large);
}

TEST_CASE("FrameReader errors are sticky", "[protocol][frame]") {
  const Bytes plaintext = header(42, 0, 1, 0);
  FrameReader reader(plaintext);
  const auto first = reader.next();
  const auto second = reader.next();
  CHECK_FALSE(first.ok());
  CHECK_FALSE(second.ok());
  CHECK(first.error() == second.error());
}

// ---- stream ids ---------------------------------------------------------------------------

TEST_CASE("client streams are odd, server streams even and non-zero", "[protocol][frame]") {
  CHECK(is_client_stream(1));
  CHECK(is_client_stream(0xffffffff));
  CHECK_FALSE(is_client_stream(2));
  CHECK_FALSE(is_client_stream(0));
  CHECK(is_server_stream(2));
  CHECK_FALSE(is_server_stream(0));
  CHECK_FALSE(is_server_stream(3));
  CHECK(stream_opener(7) == Role::client);
  CHECK(stream_opener(8) == Role::server);
}

TEST_CASE("peer stream ids must increase strictly with the right parity", "[protocol][frame]") {
  StreamIdTracker client(Role::client);
  CHECK(client.on_open(1).ok());
  CHECK(client.on_open(3).ok());
  CHECK(client.on_open(9).ok());  // gaps are allowed
  CHECK(client.last() == 9);
  CHECK(client.seen(5));
  CHECK_FALSE(client.seen(11));
  CHECK_FALSE(client.seen(4));

  const auto reused = client.on_open(9);
  CHECK(reused.error() == Reason::protocol_error);
  CHECK(reused.error().message() ==
        "stream 9 was reused or opened out of order; ids must increase (protocol_error)");
  CHECK(client.on_open(7).error() == Reason::protocol_error);
  const auto even = client.on_open(10);
  CHECK(even.error() == Reason::protocol_error);
  CHECK(even.error().message() ==
        "client opened stream 10; client streams are odd (protocol_error)");
  CHECK(client.on_open(0).error() == Reason::protocol_error);
  CHECK(client.last() == 9);  // failures change nothing
  CHECK(client.on_open(0xffffffff).ok());
  CHECK(client.on_open(0xffffffff).error() == Reason::protocol_error);

  StreamIdTracker server(Role::server);
  CHECK(server.on_open(2).ok());
  CHECK(server.on_open(4).ok());
  CHECK(server.on_open(4).error() == Reason::protocol_error);
  CHECK(server.on_open(0).error() == Reason::protocol_error);
  const auto odd = server.on_open(5);
  CHECK(odd.error().message() ==
        "server opened stream 5; server streams are even and non-zero (protocol_error)");
}
