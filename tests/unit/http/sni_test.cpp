// SPDX-License-Identifier: MIT
// peek_sni on a real ClientHello (openssl s_client -servername App.Example.com), its prefixes,
// and broken variants.
#include "http/sni.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using ringtunnel::http::peek_sni;
using ringtunnel::http::SniStatus;

namespace {

// Captured from OpenSSL 3.0 s_client (TLS 1.3, 321 bytes).
constexpr const char* kOpensslHello =
    "160301013c010001380303b9177bc81dd067058cb9e1daf18af4c9eb13707398b206063ebddfa0723f063c20d7bd1a"
    "5f25567a410fb7998a7067bf35495b246b482b690ddfa3ca9cb2d16ae1003e130213031301c02cc030009fcca9cca8"
    "ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff01"
    "0000b100000014001200000f4170702e4578616d706c652e636f6d000b000403000102000a00160014001d0017001e"
    "0019001801000101010201030104002300000016000000170000000d002a0028040305030603080708080809080a08"
    "0b080408050806040105010601030303010302040205020602002b0009080304030303020301002d00020101003300"
    "260024001d0020294e7d39184978442677967d4771e3b62bee2916cf2c3b95d5d713a9981ba22b";

std::vector<std::byte> from_hex(std::string_view hex) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::vector<std::byte> text(std::string_view s) {
  std::vector<std::byte> out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

// Offset of the server_name extension's host_name bytes in the captured hello.
std::size_t name_offset(const std::vector<std::byte>& hello) {
  const auto needle = text("App.Example.com");
  for (std::size_t i = 0; i + needle.size() <= hello.size(); ++i) {
    if (std::equal(needle.begin(), needle.end(), hello.begin() + static_cast<long>(i))) return i;
  }
  return 0;
}

}  // namespace

TEST_CASE("a real ClientHello gives its server name, lower-cased", "[sni]") {
  auto hello = from_hex(kOpensslHello);
  auto peek = peek_sni(hello);
  REQUIRE(peek.status == SniStatus::found);
  CHECK(peek.name == "app.example.com");
  hello.insert(hello.end(), 100, std::byte{0x42});  // what follows the hello is not read
  CHECK(peek_sni(hello).name == "app.example.com");
}

TEST_CASE("every prefix of a ClientHello needs more, never more or less", "[sni]") {
  const auto hello = from_hex(kOpensslHello);
  for (std::size_t n = 0; n < hello.size(); ++n) {
    INFO(n);
    CHECK(peek_sni(std::span(hello).first(n)).status == SniStatus::need_more);
  }
}

TEST_CASE("not TLS, and broken ClientHellos, are named", "[sni]") {
  auto http = peek_sni(text("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(http.status == SniStatus::not_tls);
  CHECK(http.message.find("plain HTTP") != std::string::npos);
  CHECK(peek_sni(from_hex("8001")).status == SniStatus::not_tls);  // an SSLv2-style start
  CHECK(peek_sni(from_hex("160201")).status == SniStatus::not_tls);
  CHECK(peek_sni(from_hex("1603010000")).status == SniStatus::malformed);  // empty record
  CHECK(peek_sni(from_hex("1603014001")).status == SniStatus::malformed);  // 16385 bytes
  const auto hello = from_hex(kOpensslHello);
  const std::size_t at = name_offset(hello);
  REQUIRE(at > 0);
  auto bad = hello;
  bad[at + 3] = std::byte{0};  // a NUL in the name
  CHECK(peek_sni(bad).status == SniStatus::malformed);
  bad = hello;
  bad[at + 3] = std::byte{' '};
  CHECK(peek_sni(bad).status == SniStatus::malformed);
  bad = hello;
  bad[at - 1] = std::byte{0xff};  // the name's length runs past its list
  CHECK(peek_sni(bad).status == SniStatus::malformed);
  bad = hello;
  bad[43] = std::byte{33};  // session_id length (after 5 + 4 + 2 + 32 bytes) over 32
  CHECK(peek_sni(bad).status == SniStatus::malformed);
  bad = hello;
  bad[5] = std::byte{2};  // a ServerHello, not a ClientHello
  CHECK(peek_sni(bad).status == SniStatus::malformed);
}
