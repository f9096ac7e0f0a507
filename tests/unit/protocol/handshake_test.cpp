// SPDX-License-Identifier: MIT
// Handshake messages: exact encodings, round trips and every malformed case of section 1.
#include "protocol/handshake.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "protocol/wire.hpp"
#include "test_bytes.hpp"

using namespace ringtunnel::protocol;
using namespace ringtunnel::protocol::test;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;

namespace {

Bytes32 filled32(uint8_t value) {
  Bytes32 out;
  out.fill(std::byte{value});
  return out;
}

Bytes64 filled64(uint8_t value) {
  Bytes64 out;
  out.fill(std::byte{value});
  return out;
}

ClientHello sample_client_hello() {
  ClientHello h;
  h.client_random = filled32(0x11);
  h.client_ephemeral = filled32(0x22);
  h.aeads = {Aead::chacha20_poly1305, Aead::aes_256_gcm};
  return h;
}

ServerHello sample_server_hello() {
  ServerHello h;
  h.aead = Aead::chacha20_poly1305;
  h.server_random = filled32(0x33);
  h.server_ephemeral = filled32(0x44);
  h.server_identity = filled32(0x55);
  h.signature = filled64(0x66);
  return h;
}

ClientAuth sample_client_auth(bool with_token) {
  ClientAuth a;
  a.client_identity = filled32(0x77);
  a.signature = filled64(0x88);
  if (with_token) a.token_mac = filled32(0x99);
  a.client_name = "laptop.example";
  return a;
}

template <typename T>
Bytes encoded(const T& message) {
  auto r = encode(message);
  REQUIRE(r.ok());
  return *r;
}

// Every strict prefix of `body` must fail with handshake_malformed saying "truncated".
template <typename Decode>
void check_every_truncation(const Bytes& body, Decode decode) {
  for (std::size_t n = 0; n < body.size(); ++n) {
    INFO("prefix of " << n << " of " << body.size() << " bytes");
    const auto r = decode(std::span<const std::byte>(body).first(n));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Reason::handshake_malformed);
    CHECK_THAT(error_text(r), Contains(" is truncated in "));
  }
}

}  // namespace

// ---- ClientHello --------------------------------------------------------------------------

TEST_CASE("ClientHello encodes to the bytes of section 1 and back", "[protocol][handshake]") {
  const ClientHello hello = sample_client_hello();
  const Bytes body = encoded(hello);
  CHECK(body == cat({text("RTUN"), hex("01 01"), fill(32, 0x11), fill(32, 0x22), hex("02 02 01")}));
  const auto back = decode_client_hello(body);
  REQUIRE(back.ok());
  CHECK(*back == hello);
}

TEST_CASE("ClientHello keeps AEAD ids it does not know, up to eight", "[protocol][handshake]") {
  ClientHello hello = sample_client_hello();
  hello.min_version = 1;
  hello.max_version = 7;
  hello.aeads = {Aead{9}, Aead{200}, Aead{1}, Aead{2}, Aead{3}, Aead{4}, Aead{5}, Aead{6}};
  const auto back = decode_client_hello(encoded(hello));
  REQUIRE(back.ok());
  CHECK(*back == hello);
}

TEST_CASE("ClientHello truncated at every byte is malformed", "[protocol][handshake]") {
  check_every_truncation(encoded(sample_client_hello()), decode_client_hello);
  CHECK(error_text(decode_client_hello(Bytes{})) ==
        "ClientHello is truncated in magic (handshake_malformed)");
  const Bytes body = encoded(sample_client_hello());
  CHECK(error_text(decode_client_hello(std::span(body).first(body.size() - 1))) ==
        "ClientHello is truncated in aeads (handshake_malformed)");
}

TEST_CASE("ClientHello with a bad magic is malformed", "[protocol][handshake]") {
  Bytes body = encoded(sample_client_hello());
  body[3] = std::byte{'X'};
  const auto r = decode_client_hello(body);
  CHECK(r.error() == Reason::handshake_malformed);
  CHECK(error_text(r) == "ClientHello magic is not RTUN (handshake_malformed)");
}

TEST_CASE("ClientHello aead_count must be 1..8", "[protocol][handshake]") {
  const Bytes head = cat({text("RTUN"), hex("01 01"), fill(32, 0x11), fill(32, 0x22)});
  const auto zero = decode_client_hello(cat({head, hex("00")}));
  CHECK(zero.error() == Reason::handshake_malformed);
  CHECK(error_text(zero) == "ClientHello aead_count is 0; it must be 1..8 (handshake_malformed)");
  // Nine ids actually follow: the count is refused, not the length.
  const auto nine = decode_client_hello(cat({head, hex("09"), fill(9, 1)}));
  CHECK(nine.error() == Reason::handshake_malformed);
  CHECK(error_text(nine) == "ClientHello aead_count is 9; it must be 1..8 (handshake_malformed)");
  const auto huge = decode_client_hello(cat({head, hex("ff")}));
  CHECK_THAT(error_text(huge), Contains("aead_count is 255"));

  ClientHello none = sample_client_hello();
  none.aeads.clear();
  CHECK_THAT(error_text(encode(none)), Contains("aead_count is 0"));
  ClientHello many = sample_client_hello();
  many.aeads.assign(9, Aead::aes_256_gcm);
  CHECK_THAT(error_text(encode(many)), Contains("aead_count is 9"));
}

TEST_CASE("ClientHello versions must be a range starting at 1 or above", "[protocol][handshake]") {
  Bytes body = encoded(sample_client_hello());
  body[4] = std::byte{2};  // min 2 > max 1
  const auto inverted = decode_client_hello(body);
  CHECK(inverted.error() == Reason::handshake_malformed);
  CHECK(error_text(inverted) ==
        "ClientHello min_version 2 is above max_version 1 (handshake_malformed)");
  body[4] = std::byte{0};
  const auto zero = decode_client_hello(body);
  CHECK(zero.error() == Reason::handshake_malformed);
  CHECK_THAT(error_text(zero), Contains("min_version is 0; it must be at least 1"));

  ClientHello bad = sample_client_hello();
  bad.min_version = 3;
  bad.max_version = 2;
  CHECK(encode(bad).error() == Reason::handshake_malformed);
}

TEST_CASE("ClientHello with trailing bytes is malformed", "[protocol][handshake]") {
  const auto r = decode_client_hello(cat({encoded(sample_client_hello()), hex("00 00 00")}));
  CHECK(r.error() == Reason::handshake_malformed);
  CHECK(error_text(r) == "ClientHello has 3 trailing bytes (handshake_malformed)");
}

// ---- ServerHello --------------------------------------------------------------------------

TEST_CASE("ServerHello encodes to 166 bytes and back", "[protocol][handshake]") {
  const ServerHello hello = sample_server_hello();
  const Bytes body = encoded(hello);
  CHECK(body == cat({text("RTUN"), hex("01 02"), fill(32, 0x33), fill(32, 0x44), fill(32, 0x55),
                     fill(64, 0x66)}));
  CHECK(body.size() == kServerHelloSize);
  const auto back = decode_server_hello(body);
  REQUIRE(back.ok());
  CHECK(*back == hello);
  CHECK_FALSE(is_refusal(*back));
}

TEST_CASE("the ServerHello signed part is everything but the signature", "[protocol][handshake]") {
  const Bytes body = encoded(sample_server_hello());
  const auto part = server_hello_signed_part(body);
  CHECK(part.size() == 102);
  CHECK(part.data() == body.data());
  CHECK(server_hello_signed_part(std::span(body).first(165)).empty());
  CHECK(server_hello_signed_part(cat({body, hex("00")})).empty());
}

TEST_CASE("ServerHello truncated, padded or mis-tagged is malformed", "[protocol][handshake]") {
  const Bytes body = encoded(sample_server_hello());
  check_every_truncation(body, decode_server_hello);
  CHECK(error_text(decode_server_hello(cat({body, hex("00")}))) ==
        "ServerHello has 1 trailing byte (handshake_malformed)");
  Bytes bad_magic = body;
  bad_magic[0] = std::byte{'r'};
  CHECK(error_text(decode_server_hello(bad_magic)) ==
        "ServerHello magic is not RTUN (handshake_malformed)");
  Bytes no_aead = body;
  no_aead[5] = std::byte{0};
  CHECK(error_text(decode_server_hello(no_aead)) ==
        "ServerHello aead is 0; it must be an AEAD id (non-zero) (handshake_malformed)");
}

TEST_CASE("a refusal ServerHello is version 0, the reason, and zeros", "[protocol][handshake]") {
  const ServerHello refusal = make_refusal(Reason::version_unsupported);
  const Bytes body = encoded(refusal);
  CHECK(body == cat({text("RTUN"), hex("00 04"), fill(160, 0)}));
  const auto back = decode_server_hello(body);
  REQUIRE(back.ok());
  CHECK(is_refusal(*back));
  CHECK(refusal_reason(*back) == Reason::version_unsupported);
  CHECK(refusal_reason(make_refusal(static_cast<Reason>(300))) == Reason::internal_error);

  Bytes dirty = body;
  dirty[6 + 32 + 32] = std::byte{1};  // first byte of server_identity
  CHECK(error_text(decode_server_hello(dirty)) ==
        "ServerHello server_identity is not zero in a refusal (handshake_malformed)");
  Bytes ok_reason = body;
  ok_reason[5] = std::byte{0};
  CHECK(decode_server_hello(ok_reason).error() == Reason::handshake_malformed);
  CHECK_THAT(error_text(decode_server_hello(ok_reason)), Contains("reason 0 (ok)"));

  ServerHello signed_refusal = refusal;
  signed_refusal.signature[0] = std::byte{1};
  CHECK_THAT(error_text(encode(signed_refusal)), Contains("signature is not zero"));
}

// ---- ClientAuth ---------------------------------------------------------------------------

TEST_CASE("ClientAuth round trips with and without a token MAC", "[protocol][handshake]") {
  const ClientAuth with = sample_client_auth(true);
  const Bytes body = encoded(with);
  CHECK(body == cat({fill(32, 0x77), fill(64, 0x88), hex("01"), fill(32, 0x99), hex("0e"),
                     text("laptop.example")}));
  const auto back = decode_client_auth(body);
  REQUIRE(back.ok());
  CHECK(*back == with);

  const ClientAuth without = sample_client_auth(false);
  const Bytes short_body = encoded(without);
  CHECK(short_body == cat({fill(32, 0x77), fill(64, 0x88), hex("00 0e"), text("laptop.example")}));
  const auto back2 = decode_client_auth(short_body);
  REQUIRE(back2.ok());
  CHECK(*back2 == without);
  CHECK_FALSE(back2->token_mac.has_value());
}

TEST_CASE("ClientAuth truncated at every byte is malformed", "[protocol][handshake]") {
  check_every_truncation(encoded(sample_client_auth(true)), decode_client_auth);
  check_every_truncation(encoded(sample_client_auth(false)), decode_client_auth);
}

TEST_CASE("ClientAuth token_mac_present must be 0 or 1", "[protocol][handshake]") {
  Bytes body = encoded(sample_client_auth(true));
  body[96] = std::byte{2};
  const auto r = decode_client_auth(body);
  CHECK(r.error() == Reason::handshake_malformed);
  CHECK(error_text(r) ==
        "ClientAuth token_mac_present is 2; it must be 0 or 1 (handshake_malformed)");
}

TEST_CASE("ClientAuth client_name is at most 64 bytes of UTF-8", "[protocol][handshake]") {
  ClientAuth a = sample_client_auth(false);
  a.client_name.assign(64, 'n');
  const auto back = decode_client_auth(encoded(a));
  REQUIRE(back.ok());
  CHECK(back->client_name.size() == 64);

  const Bytes long_name = cat({fill(32, 0x77), fill(64, 0x88), hex("00 41"), fill(65, 'n')});
  const auto r = decode_client_auth(long_name);
  CHECK(r.error() == Reason::handshake_malformed);
  CHECK(error_text(r) ==
        "ClientAuth client_name is 65 bytes; the limit is 64 (handshake_malformed)");
  a.client_name.assign(80, 'n');
  CHECK(error_text(encode(a)) ==
        "ClientAuth client_name is 80 bytes; the limit is 64 (handshake_malformed)");

  const Bytes latin1 = cat({fill(32, 0x77), fill(64, 0x88), hex("00 02 e9 74")});
  CHECK(error_text(decode_client_auth(latin1)) ==
        "ClientAuth client_name is not valid UTF-8 (handshake_malformed)");
  CHECK(error_text(decode_client_auth(cat({encoded(sample_client_auth(false)), hex("ff")}))) ==
        "ClientAuth has 1 trailing byte (handshake_malformed)");
}

// ---- AuthResult ---------------------------------------------------------------------------

TEST_CASE("AuthResult round trips, with the defaults of section 1", "[protocol][handshake]") {
  AuthResult result;
  result.message = "welcome";
  CHECK(result.max_frame == 65536);
  CHECK(result.initial_window == 2097152);
  CHECK(result.max_streams == 8192);
  CHECK(result.heartbeat_ms == 15000);
  const Bytes body = encoded(result);
  CHECK(body == cat({hex("0000 07"), text("welcome"), hex("00010000 00200000 00002000 00003a98")}));
  const auto back = decode_auth_result(body);
  REQUIRE(back.ok());
  CHECK(*back == result);
  check_every_truncation(body, decode_auth_result);
  CHECK(error_text(decode_auth_result(cat({body, hex("00 00")}))) ==
        "AuthResult has 2 trailing bytes (handshake_malformed)");
}

TEST_CASE("an accepting AuthResult must carry usable limits", "[protocol][handshake]") {
  const auto with = [](uint32_t max_frame, uint32_t window, uint32_t heartbeat) {
    AuthResult r;
    r.max_frame = max_frame;
    r.initial_window = window;
    r.heartbeat_ms = heartbeat;
    Bytes body;
    ByteWriter w(body);
    w.u16(0);
    w.str8("");
    w.u32(r.max_frame);
    w.u32(r.initial_window);
    w.u32(r.max_streams);
    w.u32(r.heartbeat_ms);
    return body;
  };
  CHECK(decode_auth_result(with(1, 0, 1)).ok());
  CHECK(decode_auth_result(with(65536, 0x7fffffff, 1)).ok());
  CHECK(error_text(decode_auth_result(with(0, 1, 1))) ==
        "AuthResult max_frame is 0; it must be 1..65536 (handshake_malformed)");
  CHECK(error_text(decode_auth_result(with(65537, 1, 1))) ==
        "AuthResult max_frame is 65537; it must be 1..65536 (handshake_malformed)");
  CHECK(error_text(decode_auth_result(with(1, 0x80000000U, 1))) ==
        "AuthResult initial_window exceeds 2147483647, the largest window (handshake_malformed)");
  CHECK(error_text(decode_auth_result(with(1, 1, 0))) ==
        "AuthResult heartbeat_ms is 0; it must be at least 1 (handshake_malformed)");
}

TEST_CASE("a refusing AuthResult needs no limits", "[protocol][handshake]") {
  AuthResult refusal;
  refusal.status = Reason::unknown_key;
  refusal.message = "key SHA256:abc is not authorized";
  refusal.max_frame = 0;
  refusal.initial_window = 0;
  refusal.max_streams = 0;
  refusal.heartbeat_ms = 0;
  const auto back = decode_auth_result(encoded(refusal));
  REQUIRE(back.ok());
  CHECK(*back == refusal);
  AuthResult long_message;
  long_message.message.assign(256, 'm');
  CHECK(error_text(encode(long_message)) ==
        "AuthResult message is 256 bytes; the limit is 255 (handshake_malformed)");
}

// ---- framing and signature input ----------------------------------------------------------

TEST_CASE("plaintext handshake messages are 1..1024 bytes", "[protocol][handshake]") {
  const auto length = [](uint16_t value) {
    const Bytes prefix = {static_cast<std::byte>(value >> 8), static_cast<std::byte>(value & 0xff)};
    return handshake_message_length(std::span<const std::byte, 2>(prefix.data(), 2));
  };
  CHECK(*length(1) == 1);
  CHECK(*length(1024) == 1024);
  CHECK(length(0).error() == Reason::handshake_malformed);
  CHECK(error_text(length(0)) == "handshake message length is 0 (handshake_malformed)");
  CHECK(length(1025).error() == Reason::handshake_malformed);
  CHECK(error_text(length(1025)) ==
        "handshake message is 1025 bytes; the limit is 1024 (handshake_malformed)");
  CHECK(length(65535).error() == Reason::handshake_malformed);

  const Bytes body = encoded(sample_client_hello());
  const auto framed = frame_handshake_message(body);
  REQUIRE(framed.ok());
  CHECK(*framed == cat({hex("0049"), body}));
  CHECK(frame_handshake_message(Bytes{}).error() == Reason::handshake_malformed);
  CHECK(frame_handshake_message(fill(1025, 0)).error() == Reason::handshake_malformed);
  CHECK(frame_handshake_message(fill(1024, 0)).ok());
}

TEST_CASE("signature inputs are label, a zero byte and the digest", "[protocol][handshake]") {
  const Bytes32 digest = filled32(0xab);
  const auto server = signature_input(kServerSignatureLabel, digest);
  CHECK(Bytes(server.begin(), server.end()) ==
        cat({text("ringtunnel v1 server"), hex("00"), fill(32, 0xab)}));
  const auto client = signature_input(kClientSignatureLabel, digest);
  CHECK(Bytes(client.begin(), client.end()) ==
        cat({text("ringtunnel v1 client"), hex("00"), fill(32, 0xab)}));
  CHECK(kTokenLabel == "ringtunnel v1 token");
}
