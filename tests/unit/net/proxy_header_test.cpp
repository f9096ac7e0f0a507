// SPDX-License-Identifier: MIT
// Tests for net::encode_proxy_v2: exact bytes per family, the mixed and LOCAL forms, a decode.
#include "net/proxy_header.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

using ringtunnel::net::encode_proxy_v2;
using ringtunnel::net::kMaxProxyV2Header;
using ringtunnel::net::SocketAddress;

namespace {

using Bytes = std::vector<unsigned char>;

// Section 2.2 of proxy-protocol.txt, written out by hand rather than shared with the encoder.
const Bytes kSignature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

constexpr unsigned char kUnwritten = 0xAA;  // what the buffer holds before encoding

SocketAddress parsed(const char* text) {
  auto address = SocketAddress::parse(text);
  REQUIRE(address.ok());
  return address.value();
}

// The encoder's output, after checking it left the rest of the buffer alone.
Bytes encode(const SocketAddress& source, const SocketAddress& destination, bool datagram) {
  std::array<std::byte, kMaxProxyV2Header> out;
  out.fill(std::byte{kUnwritten});
  const std::size_t written = encode_proxy_v2(source, destination, datagram, out);
  REQUIRE(written <= out.size());
  for (std::size_t i = written; i < out.size(); ++i) {
    REQUIRE(out[i] == std::byte{kUnwritten});
  }
  Bytes bytes;
  for (std::size_t i = 0; i < written; ++i) bytes.push_back(std::to_integer<unsigned char>(out[i]));
  return bytes;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes all;
  for (const Bytes& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

// A receiver's view of a header, from a parser that knows only the spec.
struct Decoded {
  unsigned command;    // 0 LOCAL, 1 PROXY
  unsigned family;     // 0 UNSPEC, 1 INET, 2 INET6
  unsigned transport;  // 0 UNSPEC, 1 STREAM, 2 DGRAM
  std::string source;  // "ip port", as inet_ntop prints the ip
  std::string destination;
  std::size_t size;  // the whole header: 16 + length
};

std::uint16_t read16(const Bytes& bytes, std::size_t at) {
  return static_cast<std::uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

std::string endpoint(int af, const unsigned char* ip, std::uint16_t port) {
  char text[INET6_ADDRSTRLEN] = {};
  REQUIRE(::inet_ntop(af, ip, text, sizeof(text)) != nullptr);
  return std::string(text) + ' ' + std::to_string(port);
}

std::optional<Decoded> decode(const Bytes& bytes) {
  if (bytes.size() < 16 || !std::equal(kSignature.begin(), kSignature.end(), bytes.begin())) {
    return std::nullopt;
  }
  if (bytes[12] >> 4 != 2) return std::nullopt;
  Decoded decoded{};
  decoded.command = bytes[12] & 0x0Fu;
  decoded.family = static_cast<unsigned>(bytes[13] >> 4);
  decoded.transport = bytes[13] & 0x0Fu;
  const std::size_t length = read16(bytes, 14);
  decoded.size = 16 + length;
  if (bytes.size() != decoded.size) return std::nullopt;
  if (decoded.command == 0) return decoded;  // LOCAL: the block, if any, is ignored
  const unsigned char* block = bytes.data() + 16;
  if (decoded.family == 1 && length >= 12) {
    decoded.source = endpoint(AF_INET, block, read16(bytes, 24));
    decoded.destination = endpoint(AF_INET, block + 4, read16(bytes, 26));
  } else if (decoded.family == 2 && length >= 36) {
    decoded.source = endpoint(AF_INET6, block, read16(bytes, 48));
    decoded.destination = endpoint(AF_INET6, block + 16, read16(bytes, 50));
  } else {
    return std::nullopt;
  }
  return decoded;
}

}  // namespace

TEST_CASE("proxy v2: TCP over IPv4, byte for byte", "[net][proxy_header]") {
  // 192.0.2.1:56324 -> 198.51.100.7:443
  const Bytes expected = concat({kSignature,
                                 {0x21, 0x11, 0x00, 0x0C},  // v2 PROXY, INET STREAM, 12 bytes
                                 {192, 0, 2, 1},
                                 {198, 51, 100, 7},
                                 {0xDC, 0x04},    // 56324
                                 {0x01, 0xBB}});  // 443
  CHECK(encode(parsed("192.0.2.1:56324"), parsed("198.51.100.7:443"), false) == expected);
  CHECK(expected.size() == 28);
}

TEST_CASE("proxy v2: UDP over IPv4 differs only in the transport nibble", "[net][proxy_header]") {
  const Bytes expected = concat({kSignature,
                                 {0x21, 0x12, 0x00, 0x0C},  // v2 PROXY, INET DGRAM, 12 bytes
                                 {10, 1, 2, 3},
                                 {127, 0, 0, 1},
                                 {0x00, 0x35},    // 53
                                 {0xFF, 0xFF}});  // 65535
  CHECK(encode(parsed("10.1.2.3:53"), parsed("127.0.0.1:65535"), true) == expected);
}

TEST_CASE("proxy v2: TCP and UDP over IPv6, byte for byte", "[net][proxy_header]") {
  // [2001:db8::1]:1234 -> [2001:db8:0:1::ff]:80
  const Bytes source_ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  const Bytes destination_ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0xff};
  const Bytes ports = {0x04, 0xD2, 0x00, 0x50};  // 1234, 80
  const SocketAddress source = parsed("[2001:db8::1]:1234");
  const SocketAddress destination = parsed("[2001:db8:0:1::ff]:80");

  const Bytes stream = concat({kSignature,
                               {0x21, 0x21, 0x00, 0x24},
                               source_ip,
                               destination_ip,
                               ports});  // v2 PROXY, INET6 STREAM, 36 bytes
  CHECK(encode(source, destination, false) == stream);
  CHECK(stream.size() == kMaxProxyV2Header);

  const Bytes datagram = concat({kSignature,
                                 {0x21, 0x22, 0x00, 0x24},
                                 source_ip,
                                 destination_ip,
                                 ports});  // v2 PROXY, INET6 DGRAM, 36 bytes
  CHECK(encode(source, destination, true) == datagram);
}

TEST_CASE("proxy v2: a mixed pair is written as IPv6 with the IPv4 side mapped",
          "[net][proxy_header]") {
  // ::ffff:203.0.113.9 and ::1
  const Bytes mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 9};
  const Bytes loopback6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const SocketAddress v4 = parsed("203.0.113.9:4000");
  const SocketAddress v6 = parsed("[::1]:8080");

  SECTION("IPv4 source, IPv6 destination") {
    const Bytes expected = concat({kSignature,
                                   {0x21, 0x21, 0x00, 0x24},
                                   mapped,
                                   loopback6,
                                   {0x0F, 0xA0, 0x1F, 0x90}});  // 4000, 8080
    CHECK(encode(v4, v6, false) == expected);
  }
  SECTION("IPv6 source, IPv4 destination") {
    const Bytes expected =
        concat({kSignature, {0x21, 0x22, 0x00, 0x24}, loopback6, mapped, {0x1F, 0x90, 0x0F, 0xA0}});
    CHECK(encode(v6, v4, true) == expected);
  }
}

TEST_CASE("proxy v2: an address that is not IP gives the 16-byte LOCAL form",
          "[net][proxy_header]") {
  const Bytes local = concat({kSignature, {0x20, 0x00, 0x00, 0x00}});  // v2 LOCAL, UNSPEC, 0
  const SocketAddress empty;
  const SocketAddress v4 = parsed("127.0.0.1:80");
  const SocketAddress v6 = parsed("[::1]:80");
  CHECK(encode(empty, v4, false) == local);
  CHECK(encode(v6, empty, false) == local);
  CHECK(encode(empty, empty, true) == local);  // LOCAL carries no transport either
}

TEST_CASE("proxy v2: an IPv6 scope id is not part of the header", "[net][proxy_header]") {
  in6_addr link_local{};
  REQUIRE(::inet_pton(AF_INET6, "fe80::1", &link_local) == 1);
  const SocketAddress scoped = SocketAddress::ipv6(link_local, 7000, 1);
  const SocketAddress unscoped = SocketAddress::ipv6(link_local, 7000, 0);
  const SocketAddress destination = parsed("[fe80::2]:22");
  CHECK(encode(scoped, destination, false) == encode(unscoped, destination, false));
}

TEST_CASE("proxy v2: an independent parser reads back what was encoded", "[net][proxy_header]") {
  struct Case {
    const char* source;
    const char* destination;
    bool datagram;
    unsigned family;
    const char* source_seen;
    const char* destination_seen;
  };
  const Case cases[] = {
      {"1.2.3.4:1", "5.6.7.8:2", false, 1, "1.2.3.4 1", "5.6.7.8 2"},
      {"0.0.0.0:0", "255.255.255.255:65535", true, 1, "0.0.0.0 0", "255.255.255.255 65535"},
      {"[::]:0", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", false, 2, ":: 0",
       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535"},
      {"[2001:db8::abcd]:40000", "[::1]:443", true, 2, "2001:db8::abcd 40000", "::1 443"},
      {"192.168.1.10:51000", "[2001:db8::2]:443", false, 2, "::ffff:192.168.1.10 51000",
       "2001:db8::2 443"},
      {"[::ffff:10.0.0.1]:5", "[::ffff:10.0.0.2]:6", false, 2, "::ffff:10.0.0.1 5",
       "::ffff:10.0.0.2 6"},  // already-mapped IPv6 stays IPv6: the family follows the input
  };
  for (const Case& c : cases) {
    CAPTURE(c.source, c.destination, c.datagram);
    const auto decoded = decode(encode(parsed(c.source), parsed(c.destination), c.datagram));
    REQUIRE(decoded.has_value());
    CHECK(decoded->command == 1);
    CHECK(decoded->family == c.family);
    CHECK(decoded->transport == (c.datagram ? 2u : 1u));
    CHECK(decoded->size == (c.family == 1 ? 28u : 52u));
    CHECK(decoded->source == c.source_seen);
    CHECK(decoded->destination == c.destination_seen);
  }

  const auto local = decode(encode(SocketAddress{}, parsed("1.2.3.4:5"), false));
  REQUIRE(local.has_value());
  CHECK(local->command == 0);
  CHECK(local->family == 0);
  CHECK(local->transport == 0);
  CHECK(local->size == 16);
}
