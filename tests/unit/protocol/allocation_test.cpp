// SPDX-License-Identifier: MIT
// Checks that walking a record and decoding every frame payload allocates nothing.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>
#include <vector>

#include "allocation_counter.hpp"
#include "protocol/frame.hpp"
#include "protocol/payload.hpp"
#include "protocol/record.hpp"
#include "test_bytes.hpp"


using namespace ringtunnel::protocol;
using namespace ringtunnel::protocol::test;
using ringtunnel::testing::operator_new_calls;

namespace {

// Walks `plaintext` and decodes each payload; returns frames seen (errors end the walk).
std::size_t walk(std::span<const std::byte> plaintext, bool& all_decoded) {
  FrameReader reader(plaintext);
  std::size_t frames = 0;
  for (;;) {
    auto next = reader.next();
    if (!next.ok() || !next->has_value()) return frames;
    const FrameView f = **next;
    ++frames;
    bool ok = true;
    switch (f.type) {
      case FrameType::open:
        ok = decode_open(f.payload).ok();
        break;
      case FrameType::open_ok:
        ok = decode_open_ok(f.payload).ok();
        break;
      case FrameType::open_refused:
        ok = decode_open_refused(f.payload).ok();
        break;
      case FrameType::data:
        break;
      case FrameType::window:
        ok = decode_window(f.payload).ok();
        break;
      case FrameType::fin:
        ok = decode_fin(f.payload).ok();
        break;
      case FrameType::reset:
        ok = decode_reset(f.payload).ok();
        break;
      case FrameType::ping:
        ok = decode_ping(f.payload).ok();
        break;
      case FrameType::pong:
        ok = decode_pong(f.payload).ok();
        break;
      case FrameType::goaway:
        ok = decode_goaway(f.payload).ok();
        break;
      case FrameType::key_update:
        ok = decode_key_update(f.payload).ok();
        break;
      case FrameType::close:
        ok = decode_close(f.payload).ok();
        break;
    }
    all_decoded = all_decoded && ok;
  }
}

}  // namespace

TEST_CASE("the frame decode path allocates nothing", "[protocol][allocation]") {
  Bytes record;
  ByteWriter w(record);
  REQUIRE(append_frame(w, 1, Open{kOpenKindTcp, 1000, 443, "example.com", "web"}).ok());
  REQUIRE(append_frame(w, 1, OpenOk{1000}).ok());
  REQUIRE(append_frame(w, 3, OpenRefused{Reason::host_not_allowed, "no"}).ok());
  REQUIRE(append_data_frame(w, 1, fill(4096, 0x61)).ok());
  REQUIRE(append_frame(w, 1, Window{4096}).ok());
  REQUIRE(append_frame(w, 1, Fin{}).ok());
  REQUIRE(append_frame(w, 5, Reset{Reason::connect_failed}).ok());
  REQUIRE(append_frame(w, 0, Ping{1}).ok());
  REQUIRE(append_frame(w, 0, Pong{1}).ok());
  REQUIRE(append_frame(w, 0, GoAway{5, Reason::going_away, "bye"}).ok());
  REQUIRE(append_frame(w, 0, KeyUpdate{}).ok());
  REQUIRE(append_frame(w, 0, Close{Reason::ok, "done"}).ok());
  const Bytes malformed = hex("05 00 00000001 00000004 00000000  2a 00 00000000 00000000");
  const Bytes header = hex("00000011");

  const std::size_t baseline = operator_new_calls();
  ::operator delete(::operator new(8));    // a direct call: never elided by the optimiser
  REQUIRE(operator_new_calls() == baseline + 1);  // the counter does see allocations

  bool all_decoded = true;
  const std::size_t before = operator_new_calls();
  const std::size_t frames = walk(record, all_decoded);
  bool malformed_decoded = true;
  walk(malformed, malformed_decoded);  // WINDOW 0, then an unknown type: both error paths
  const bool length_ok = parse_record_length(std::span<const std::byte, 4>(header.data(), 4)).ok();
  const std::size_t allocations = operator_new_calls() - before;

  CHECK(frames == 12);
  CHECK(all_decoded);
  CHECK_FALSE(malformed_decoded);
  CHECK(length_ok);
  CHECK(allocations == 0);
}
