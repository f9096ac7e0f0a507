// SPDX-License-Identifier: MIT
// Typed frame payloads: exact encodings, round trips through FrameReader, malformed payloads.
#include "protocol/payload.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "test_bytes.hpp"

using namespace ringtunnel::protocol;
using namespace ringtunnel::protocol::test;
using Catch::Matchers::Contains;

namespace {

template <typename P>
Bytes frame(uint32_t stream_id, const P& payload) {
  Bytes out;
  ByteWriter w(out);
  const auto r = append_frame(w, stream_id, payload);
  INFO(error_text(r));
  REQUIRE(r.ok());
  return out;
}

// Encodes, reads back through FrameReader, decodes, and checks the result is equal.
template <typename P>
void round_trip(uint32_t stream_id, const P& payload) {
  const Bytes bytes = frame(stream_id, payload);
  CHECK(bytes.size() == kFrameHeaderSize + payload_size(payload));
  FrameReader reader(bytes);
  auto next = reader.next();
  REQUIRE(next.ok());
  REQUIRE(next->has_value());
  const FrameView view = **next;
  CHECK(view.type == P::kType);
  CHECK(view.stream_id == stream_id);
  const auto decoded = decode_payload<P>(view.payload);
  INFO(error_text(decoded));
  REQUIRE(decoded.ok());
  CHECK(*decoded == payload);
  auto end = reader.next();
  REQUIRE(end.ok());
  CHECK_FALSE(end->has_value());
}

// Every strict prefix of the payload of `bytes` (a whole frame) must fail as truncated.
template <typename P>
void check_every_truncation(const Bytes& bytes) {
  const auto payload = std::span<const std::byte>(bytes).subspan(kFrameHeaderSize);
  for (std::size_t n = 0; n < payload.size(); ++n) {
    INFO("payload prefix of " << n << " bytes");
    const auto r = decode_payload<P>(payload.first(n));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Reason::protocol_error);
    CHECK_THAT(error_text(r), Contains(" is truncated in "));
  }
}

template <typename P>
std::string decode_error(const Bytes& payload) {
  return error_text(decode_payload<P>(payload));
}

}  // namespace

TEST_CASE("every frame payload round trips", "[protocol][payload]") {
  round_trip(1, Open{kOpenKindTcp, 262144, 443, "example.com", "web"});
  round_trip(3, Open{kOpenKindTcp, 0, 0, "", ""});
  round_trip(5,
             Open{kOpenKindTcp, kMaxWindow, 65535, std::string(255, 'h'), std::string(255, 't')});
  round_trip(2, OpenOk{65536});
  round_trip(2, OpenRefused{Reason::port_not_allowed, "port 22 is not allowed"});
  round_trip(2, OpenRefused{static_cast<Reason>(999), ""});  // unknown codes travel as sent
  round_trip(7, Window{1});
  round_trip(7, Window{kMaxWindow});
  round_trip(9, Fin{});
  round_trip(11, Reset{Reason::connect_refused});
  round_trip(0, Ping{0x0102030405060708ULL});
  round_trip(0, Pong{~0ULL});
  round_trip(0, GoAway{41, Reason::shutting_down, "restarting \xe2\x9c\x93"});
  round_trip(0, KeyUpdate{});
  round_trip(0, Close{Reason::ok, "bye"});
}

TEST_CASE("frame payloads have the layout of section 3", "[protocol][payload]") {
  CHECK(frame(1, Open{kOpenKindTcp, 0x40000, 0x1bb, "h", "tt"}) ==
        hex("01 00 00000001 0000000c  01 00040000 01bb 01 68 02 7474"));
  CHECK(frame(2, OpenOk{0x10}) == hex("02 00 00000002 00000004 00000010"));
  CHECK(frame(2, OpenRefused{Reason::too_many_streams, "x"}) ==
        hex("03 00 00000002 00000004 0014 01 78"));
  CHECK(frame(3, Window{5}) == hex("05 00 00000003 00000004 00000005"));
  CHECK(frame(3, Fin{}) == hex("06 00 00000003 00000000"));
  CHECK(frame(3, Reset{Reason::stream_reset}) == hex("07 00 00000003 00000002 001b"));
  CHECK(frame(0, Ping{1}) == hex("08 00 00000000 00000008 0000000000000001"));
  CHECK(frame(0, Pong{2}) == hex("09 00 00000000 00000008 0000000000000002"));
  CHECK(frame(0, GoAway{7, Reason::going_away, ""}) ==
        hex("0a 00 00000000 00000007 00000007 0016 00"));
  CHECK(frame(0, KeyUpdate{}) == hex("0b 00 00000000 00000000"));
  CHECK(frame(0, Close{Reason::idle_timeout, "i"}) == hex("0c 00 00000000 00000004 000c 01 69"));
  Bytes data;
  ByteWriter w(data);
  REQUIRE(append_data_frame(w, 1, hex("cafe")).ok());
  CHECK(data == hex("04 00 00000001 00000002 cafe"));
}

TEST_CASE("payloads truncated at every byte are protocol errors", "[protocol][payload]") {
  check_every_truncation<Open>(frame(1, Open{kOpenKindTcp, 1, 80, "host", "tun"}));
  check_every_truncation<OpenOk>(frame(1, OpenOk{1}));
  check_every_truncation<OpenRefused>(frame(1, OpenRefused{Reason::host_not_allowed, "no"}));
  check_every_truncation<Window>(frame(1, Window{1}));
  check_every_truncation<Reset>(frame(1, Reset{}));
  check_every_truncation<Ping>(frame(0, Ping{}));
  check_every_truncation<Pong>(frame(0, Pong{}));
  check_every_truncation<GoAway>(frame(0, GoAway{1, Reason::going_away, "bye"}));
  check_every_truncation<Close>(frame(0, Close{Reason::ok, "bye"}));
  CHECK(decode_error<Open>(hex("01 00000001 0050 05 6869")) ==
        "OPEN is truncated in host (protocol_error)");
  CHECK(decode_error<Ping>(hex("0102030405")) == "PING is truncated in opaque (protocol_error)");
}

TEST_CASE("payloads with trailing bytes are protocol errors", "[protocol][payload]") {
  CHECK(decode_error<Ping>(hex("0000000000000001 00")) ==
        "PING has 1 trailing byte (protocol_error)");
  CHECK(decode_error<Window>(hex("00000001 0000")) ==
        "WINDOW has 2 trailing bytes (protocol_error)");
  CHECK(decode_error<Open>(hex("01 00000001 0050 00 00 ff")) ==
        "OPEN has 1 trailing byte (protocol_error)");
  CHECK(decode_error<Reset>(hex("0001 01")) == "RESET has 1 trailing byte (protocol_error)");
}

TEST_CASE("FIN and KEY_UPDATE must be empty", "[protocol][payload]") {
  CHECK(decode_payload<Fin>(Bytes{}).ok());
  CHECK(decode_payload<KeyUpdate>(Bytes{}).ok());
  CHECK(decode_error<Fin>(hex("00")) ==
        "FIN payload is 1 bytes; it must be empty (protocol_error)");
  CHECK(decode_error<KeyUpdate>(hex("0000")) ==
        "KEY_UPDATE payload is 2 bytes; it must be empty (protocol_error)");
}

TEST_CASE("WINDOW increment must be 1..2^31-1", "[protocol][payload]") {
  const auto zero = decode_payload<Window>(hex("00000000"));
  CHECK(zero.error() == Reason::protocol_error);
  CHECK(error_text(zero) == "WINDOW increment is 0; it must be 1..2147483647 (protocol_error)");
  const auto over = decode_payload<Window>(hex("80000000"));
  CHECK(over.error() == Reason::flow_control);
  CHECK(error_text(over) ==
        "WINDOW increment exceeds 2147483647, the largest window (flow_control)");
  CHECK(decode_payload<Window>(hex("ffffffff")).error() == Reason::flow_control);
  CHECK(decode_payload<Window>(hex("7fffffff"))->increment == kMaxWindow);

  Bytes out;
  ByteWriter w(out);
  CHECK(append_frame(w, 1, Window{0}).error() == Reason::protocol_error);
  CHECK(append_frame(w, 1, Window{0x80000000U}).error() == Reason::flow_control);
  CHECK(out.empty());  // refused frames write nothing
}

TEST_CASE("OPEN and OPEN_OK windows are at most 2^31-1", "[protocol][payload]") {
  CHECK(decode_payload<Open>(hex("01 80000000 0050 00 00")).error() == Reason::flow_control);
  CHECK(decode_error<OpenOk>(hex("80000000")) ==
        "OPEN_OK window exceeds 2147483647, the largest window (flow_control)");
}

TEST_CASE("OPEN kind must be 1 (TCP), 2 (TCP check), 3 (UDP), 4 (UDP check) or 5-8 (expose)",
          "[protocol][payload]") {
  CHECK(decode_error<Open>(hex("09 00000001 0050 00 00")) ==
        "OPEN kind is 9; it must be 1 (TCP), 2 (TCP check), 3 (UDP), 4 (UDP check), "
        "5 (TCP expose), 6 (UDP expose), 7 (HTTP name) or 8 (TLS name) (protocol_error)");
  CHECK(decode_error<Open>(hex("00 00000001 0050 00 00")).starts_with("OPEN kind is 0;"));
  CHECK(decode_payload<Open>(hex("02 00000001 0050 00 00"))->kind == kOpenKindTcpCheck);
  CHECK(decode_payload<Open>(hex("03 00000001 0035 00 00"))->kind == kOpenKindUdp);
  CHECK(decode_payload<Open>(hex("04 00000001 0035 00 00"))->kind == kOpenKindUdpCheck);
  CHECK(decode_payload<Open>(hex("05 00000000 1f90 00 00"))->kind == kOpenKindTcpExpose);
  CHECK(decode_payload<Open>(hex("06 00000000 1f90 00 00"))->kind == kOpenKindUdpExpose);
  CHECK(decode_payload<Open>(hex("07 00000000 0000 00 03 617070"))->kind == kOpenKindHttpExpose);
  CHECK(decode_payload<Open>(hex("08 00000000 0000 00 03 617070"))->kind == kOpenKindTlsExpose);
  CHECK(is_request_kind(kOpenKindHttpExpose));
  CHECK(is_ingress_kind(kOpenKindTlsExpose));
  CHECK_FALSE(is_ingress_kind(kOpenKindTcpExpose));
  CHECK(is_request_kind(kOpenKindTcpExpose));
  CHECK(is_request_kind(kOpenKindUdpCheck));
  CHECK_FALSE(is_request_kind(kOpenKindUdp));
  Bytes out;
  ByteWriter w(out);
  CHECK(append_frame(w, 1, Open{0, 1, 1, "h", ""}).error() == Reason::protocol_error);
  CHECK(append_frame(w, 1, Open{9, 1, 1, "h", ""}).error() == Reason::protocol_error);
  CHECK(append_frame(w, 1, Open{kOpenKindUdp, 1, 53, "h", ""}).ok());
  CHECK(append_frame(w, 1, Open{kOpenKindTcpCheck, 0, 5432, "localhost", "db"}).ok());
}

TEST_CASE("str8 fields must be UTF-8 and fit 255 bytes", "[protocol][payload]") {
  CHECK(decode_error<Open>(hex("01 00000001 0050 01 ff 00")) ==
        "OPEN host is not valid UTF-8 (protocol_error)");
  CHECK(decode_error<Close>(hex("0000 02 c3 28")) ==
        "CLOSE message is not valid UTF-8 (protocol_error)");
  CHECK(decode_error<GoAway>(hex("00000000 0000 01 80")) ==
        "GOAWAY message is not valid UTF-8 (protocol_error)");
  Bytes out;
  ByteWriter w(out);
  const std::string host(300, 'h');
  const auto r = append_frame(w, 1, Open{kOpenKindTcp, 1, 80, host, ""});
  CHECK(r.error() == Reason::protocol_error);
  CHECK(error_text(r) == "OPEN host is 300 bytes; the limit is 255 (protocol_error)");
  CHECK_THAT(error_text(append_frame(w, 0, Close{Reason::ok, std::string(256, 'c')})),
             Contains("CLOSE message is 256 bytes; the limit is 255"));
  CHECK(out.empty());
}

TEST_CASE("encoders refuse the wrong stream scope", "[protocol][payload]") {
  Bytes out;
  ByteWriter w(out);
  CHECK(append_frame(w, 0, OpenOk{1}).error() == Reason::protocol_error);
  CHECK(append_frame(w, 0, Fin{}).error() == Reason::protocol_error);
  CHECK(append_data_frame(w, 0, hex("00")).error() == Reason::protocol_error);
  CHECK(append_frame(w, 1, Ping{}).error() == Reason::protocol_error);
  CHECK(append_frame(w, 2, KeyUpdate{}).error() == Reason::protocol_error);
  CHECK(out.empty());
}

TEST_CASE("DATA is limited to 65536 bytes per frame", "[protocol][payload]") {
  Bytes out;
  ByteWriter w(out);
  CHECK(append_data_frame(w, 1, fill(65536, 1)).ok());
  CHECK(out.size() == kFrameHeaderSize + 65536);
  CHECK(append_data_frame(w, 1, fill(65537, 1)).error() == Reason::frame_too_large);
}

TEST_CASE("encoding into a span that is too small is an internal error", "[protocol][payload]") {
  std::array<std::byte, 12> small{};
  ByteWriter w{std::span<std::byte>(small)};
  const auto r = append_frame(w, 0, Ping{1});
  CHECK(r.error() == Reason::internal_error);
  CHECK_THAT(error_text(r), Contains("too small"));

  std::array<std::byte, 18> exact{};
  ByteWriter w2{std::span<std::byte>(exact)};
  CHECK(append_frame(w2, 0, Ping{1}).ok());
  CHECK(w2.size() == 18);
}

TEST_CASE("several encoded frames read back as one record", "[protocol][payload]") {
  Bytes record;
  ByteWriter w(record);
  REQUIRE(append_frame(w, 1, Open{kOpenKindTcp, 1000, 22, "db", "ssh"}).ok());
  REQUIRE(append_data_frame(w, 1, text("hello")).ok());
  REQUIRE(append_frame(w, 1, Fin{}).ok());
  REQUIRE(append_frame(w, 0, Close{Reason::ok, ""}).ok());
  FrameReader reader(record);
  const FrameType expected[] = {FrameType::open, FrameType::data, FrameType::fin, FrameType::close};
  for (FrameType type : expected) {
    auto next = reader.next();
    REQUIRE(next.ok());
    REQUIRE(next->has_value());
    CHECK((*next)->type == type);
  }
  auto end = reader.next();
  REQUIRE(end.ok());
  CHECK_FALSE(end->has_value());
}
