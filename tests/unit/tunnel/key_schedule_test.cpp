// SPDX-License-Identifier: MIT
// The key schedule of section 1, recomputed independently from HMAC-SHA256 (RFC 5869 by hand).
#include "tunnel/key_schedule.hpp"

#include <catch2/catch.hpp>

#include "crypto/hash.hpp"
#include "protocol/handshake.hpp"
#include "tunnel_test_support.hpp"

using namespace ringtunnel;
using namespace ringtunnel::tunnel;
using namespace ringtunnel::tunnel::test;

namespace {

// HKDF-Expand for a 32-byte output is one block: T(1) = HMAC(prk, info || 0x01).
Bytes expand_by_hand(std::span<const std::byte> prk, Bytes info) {
  info.push_back(std::byte{1});
  const auto t1 = crypto::hmac_sha256(prk, info);
  return Bytes(t1.begin(), t1.end());
}

Bytes bytes_of(const Secret& secret) {
  return Bytes(secret.span().begin(), secret.span().end());
}

Bytes concat(Bytes a, std::span<const std::byte> b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::array<std::byte, 32> filled(uint8_t value) {
  std::array<std::byte, 32> out;
  out.fill(std::byte{value});
  return out;
}

}  // namespace

TEST_CASE("the labels are those of section 1", "[tunnel][key_schedule]") {
  CHECK(kLabelHandshakeC2s == "rt1 hs c2s");
  CHECK(kLabelHandshakeS2c == "rt1 hs s2c");
  CHECK(kLabelTrafficC2s == "rt1 ts c2s");
  CHECK(kLabelTrafficS2c == "rt1 ts s2c");
  CHECK(kLabelRecordKey == "rt1 key");
  CHECK(kLabelKeyUpdate == "rt1 update");
}

TEST_CASE("transcript hashes are SHA-256 of the concatenation", "[tunnel][key_schedule]") {
  const Bytes a = text("client hello body");
  const Bytes b = text("server hello body");
  const auto expected = crypto::sha256(concat(a, b));
  CHECK(transcript_hash(a, b) == expected);
}

TEST_CASE("prk, handshake keys and traffic secrets match RFC 5869 by hand",
          "[tunnel][key_schedule]") {
  const auto th1 = filled(0x11);
  const auto shared = filled(0x22);
  const auto th2 = filled(0x33);
  const Secret prk = handshake_prk(th1, shared);
  const auto prk_by_hand = crypto::hmac_sha256(th1, shared);  // Extract: HMAC(salt, ikm)
  CHECK(bytes_of(prk) == Bytes(prk_by_hand.begin(), prk_by_hand.end()));

  const HandshakeKeys hs = handshake_keys(prk.span());
  CHECK(bytes_of(hs.c2s) == expand_by_hand(prk.span(), text("rt1 hs c2s")));
  CHECK(bytes_of(hs.s2c) == expand_by_hand(prk.span(), text("rt1 hs s2c")));
  CHECK_FALSE(same(hs.c2s, hs.s2c));

  const TrafficSecrets ts = traffic_secrets(prk.span(), th2);
  CHECK(bytes_of(ts.c2s) == expand_by_hand(prk.span(), concat(text("rt1 ts c2s"), th2)));
  CHECK(bytes_of(ts.s2c) == expand_by_hand(prk.span(), concat(text("rt1 ts s2c"), th2)));

  const Secret key = record_key(ts.c2s.span());
  const Secret next = next_secret(ts.c2s.span());
  CHECK(bytes_of(key) == expand_by_hand(ts.c2s.span(), text("rt1 key")));
  CHECK(bytes_of(next) == expand_by_hand(ts.c2s.span(), text("rt1 update")));
  CHECK_FALSE(same(key, next));
}

TEST_CASE("the traffic secrets depend on th2", "[tunnel][key_schedule]") {
  const Secret prk = handshake_prk(filled(1), filled(2));
  const TrafficSecrets a = traffic_secrets(prk.span(), filled(3));
  const TrafficSecrets b = traffic_secrets(prk.span(), filled(4));
  CHECK_FALSE(same(a.c2s, b.c2s));
  CHECK_FALSE(same(a.s2c, b.s2c));
}

TEST_CASE("the token MAC is HMAC(H(label || token), th1)", "[tunnel][key_schedule]") {
  const auto th1 = filled(0x44);
  const Secret key = token_key("enrol-me");
  const auto key_by_hand = crypto::sha256(text("ringtunnel v1 tokenenrol-me"));
  CHECK(bytes_of(key) == Bytes(key_by_hand.begin(), key_by_hand.end()));
  const Secret mac = token_mac(key.span(), th1);
  const auto mac_by_hand = crypto::hmac_sha256(key_by_hand, th1);
  CHECK(bytes_of(mac) == Bytes(mac_by_hand.begin(), mac_by_hand.end()));
  // Bound to the session: another th1, another MAC.
  CHECK_FALSE(same(mac, token_mac(key.span(), filled(0x45))));
}
