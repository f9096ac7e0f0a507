// SPDX-License-Identifier: MIT
// RecordLayer: TLS 1.3 records between two of ours, and hand-made records a peer could send:
// padding, alerts, post-handshake messages, replays, oversized and empty records.
#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "crypto/tls/record_layer.hpp"
#include "crypto/tls/tls.hpp"
#include "protocol/reason.hpp"

namespace ringtunnel::crypto::tls {
namespace {

using Bytes = std::vector<std::byte>;

TrafficSecret secret_of(std::uint8_t fill, TrafficHash hash) {
  TrafficSecret secret;
  secret.size = hash == TrafficHash::sha384 ? 48 : 32;
  std::memset(secret.bytes.data(), fill, secret.size);
  return secret;
}

// Two record layers facing each other: a's writes are b's reads and the other way round.
struct Ends {
  explicit Ends(AeadAlgorithm algorithm = AeadAlgorithm::aes_256_gcm,
                TrafficHash suite_hash = TrafficHash::sha384)
      : a(make(algorithm, suite_hash, 1, 2)),
        b(make(algorithm, suite_hash, 2, 1)),
        hash(suite_hash) {}
  static RecordLayer make(AeadAlgorithm algorithm, TrafficHash suite_hash, std::uint8_t w,
                          std::uint8_t r) {
    auto layer = RecordLayer::create(algorithm, suite_hash, secret_of(w, suite_hash),
                                     secret_of(r, suite_hash));
    REQUIRE(layer);
    return std::move(*layer);
  }
  RecordLayer a, b;
  TrafficHash hash;
};

Bytes write(RecordLayer& layer, std::span<const std::span<const std::byte>> pieces) {
  std::size_t total = 0;
  for (const auto piece : pieces) total += piece.size();
  Bytes out(layer.sealed_size(total));
  auto n = layer.write(pieces, out);
  REQUIRE(n);
  out.resize(*n);
  return out;
}

// Reads every record in `wire`; the application data, or the first error.
struct Read {
  Bytes data;
  std::error_code error;
  bool alert = false;
  Alert which;
  std::string text;
};
Read read_all(RecordLayer& layer, Bytes wire) {
  Read result;
  std::size_t at = 0;
  while (at < wire.size()) {
    auto size = tls_record_size(std::span(wire).subspan(at));
    REQUIRE(size);
    REQUIRE(*size > 0);
    std::array<std::byte, kMaxTlsPlaintext> dest;
    std::size_t plaintext = 0;
    auto content = layer.read_record(std::span(wire).subspan(at, *size), dest, &plaintext,
                                     &result.which, &result.text);
    if (!content) {
      result.error = content.error();
      return result;
    }
    if (*content == RecordContent::alert) {
      result.alert = true;
      return result;
    }
    result.data.insert(result.data.end(), dest.begin(), dest.begin() + plaintext);
    at += *size;
  }
  return result;
}

// A record as a peer's library could make it: `inner` (content, type, padding) sealed under
// `secret` at `sequence`, derived independently of RecordLayer's own writer.
Bytes hand_made(const TrafficSecret& secret, TrafficHash hash, std::uint64_t sequence,
                const Bytes& inner) {
  std::array<std::byte, kAeadKeySize> key_bytes;
  std::array<std::byte, kAeadNonceSize> nonce;
  REQUIRE(expand_label(hash, secret.span(), "key", key_bytes));
  REQUIRE(expand_label(hash, secret.span(), "iv", nonce));
  for (std::size_t i = 0; i < 8; ++i) {
    nonce[kAeadNonceSize - 1 - i] ^= static_cast<std::byte>(sequence >> (8 * i));
  }
  auto key = AeadKey::create(AeadAlgorithm::aes_256_gcm, key_bytes);
  REQUIRE(key);
  const std::size_t length = inner.size() + kAeadTagSize;
  Bytes record(5 + length);
  record[0] = std::byte{23};
  record[1] = record[2] = std::byte{3};
  record[3] = static_cast<std::byte>(length >> 8);
  record[4] = static_cast<std::byte>(length);
  const std::span<const std::byte> pieces[1] = {inner};
  REQUIRE(key->seal_gather_with_nonce(nonce, std::span(record).first(5), pieces,
                                      std::span(record).subspan(5)));
  return record;
}

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

}  // namespace

TEST_CASE("RecordLayer: pieces of any size arrive whole, cut into records of at most 2^14",
          "[crypto][tls]") {
  for (auto [algorithm, hash] :
       {std::pair{AeadAlgorithm::aes_256_gcm, TrafficHash::sha384},
        std::pair{AeadAlgorithm::chacha20_poly1305, TrafficHash::sha256}}) {
    Ends ends(algorithm, hash);
    Bytes header(10, std::byte{7}), payload(40000);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::byte>(i * 31);
    const std::span<const std::byte> pieces[] = {header, payload, {}, header};
    const Bytes wire = write(ends.a, pieces);
    // 40,020 bytes: records of 16384, 16384 and 7252, each 22 bytes over.
    CHECK(wire.size() == 40020 + 3 * kTlsRecordOverhead);
    // Built by hand: GCC 12 at -O3 warns falsely (array-bounds) on inserting into a copy.
    Bytes expected(header.size() * 2 + payload.size());
    std::memcpy(expected.data(), header.data(), header.size());
    std::memcpy(expected.data() + header.size(), payload.data(), payload.size());
    std::memcpy(expected.data() + header.size() + payload.size(), header.data(), header.size());
    const Read read = read_all(ends.b, wire);
    CHECK_FALSE(read.error);
    CHECK(read.data == expected);
  }
}

TEST_CASE("RecordLayer: a KeyUpdate changes the keys on both sides", "[crypto][tls]") {
  Ends ends;
  Bytes message(100, std::byte{1});
  const std::span<const std::byte> pieces[] = {message};
  Bytes wire = write(ends.a, pieces);
  ends.a.update_key();
  const Bytes after = write(ends.a, pieces);
  CHECK(after.size() == kKeyUpdateRecordSize + 100 + kTlsRecordOverhead);
  wire.insert(wire.end(), after.begin(), after.end());
  const Read read = read_all(ends.b, wire);
  CHECK_FALSE(read.error);
  CHECK(read.data.size() == 200);
}

TEST_CASE("RecordLayer: a requested KeyUpdate is answered before the next records",
          "[crypto][tls]") {
  Ends ends;
  const TrafficSecret a_write = secret_of(1, ends.hash);
  // update_requested = 1, from a (sequence 0), then data under a's next key, which b must
  // derive itself: it reads the data only if it rekeyed.
  const Bytes update = hand_made(a_write, ends.hash, 0, bytes({24, 0, 0, 1, 1, 22}));
  Read read = read_all(ends.b, update);
  REQUIRE_FALSE(read.error);
  Bytes reply_data(5, std::byte{9});
  const std::span<const std::byte> pieces[] = {reply_data};
  const Bytes reply = write(ends.b, pieces);
  CHECK(reply.size() == kKeyUpdateRecordSize + 5 + kTlsRecordOverhead);
  // a never saw its own update go out, so its read side is still on b's first key: it reads
  // b's KeyUpdate, rekeys and then reads the data.
  read = read_all(ends.a, reply);
  CHECK_FALSE(read.error);
  CHECK(read.data == reply_data);
}

TEST_CASE("RecordLayer: padding is stripped; hostile records are final errors", "[crypto][tls]") {
  Ends ends;
  const TrafficSecret a_write = secret_of(1, ends.hash);
  std::string text;
  SECTION("zero padding after the content type") {
    const Read read =
        read_all(ends.b, hand_made(a_write, ends.hash, 0, bytes({'h', 'i', 23, 0, 0, 0, 0})));
    CHECK_FALSE(read.error);
    CHECK(read.data == bytes({'h', 'i'}));
  }
  SECTION("all zeros: no content type") {
    const Read read = read_all(ends.b, hand_made(a_write, ends.hash, 0, bytes({0, 0, 0})));
    CHECK(read.error == protocol::Reason::protocol_error);
  }
  SECTION("a replayed record does not authenticate") {
    Bytes wire = hand_made(a_write, ends.hash, 0, bytes({'x', 23}));
    const Bytes again = wire;
    wire.insert(wire.end(), again.begin(), again.end());
    const Read read = read_all(ends.b, wire);
    CHECK(read.error == protocol::Reason::decrypt_failed);
    CHECK(read.data == bytes({'x'}));
  }
  SECTION("a record of the wrong key does not authenticate") {
    const Read read =
        read_all(ends.b, hand_made(secret_of(3, ends.hash), ends.hash, 0, bytes({'x', 23})));
    CHECK(read.error == protocol::Reason::decrypt_failed);
  }
  SECTION("more than 2^14 bytes of plaintext") {
    Bytes inner(kMaxTlsPlaintext + 1, std::byte{'a'});
    inner.push_back(std::byte{23});
    const Read read = read_all(ends.b, hand_made(a_write, ends.hash, 0, inner));
    CHECK(read.error == protocol::Reason::protocol_error);
  }
  SECTION("an alert about our certificate, and close_notify") {
    Read read = read_all(ends.b, hand_made(a_write, ends.hash, 0, bytes({2, 48, 21})));
    REQUIRE(read.alert);
    CHECK(alert_error(read.which, &text) == protocol::Reason::certificate_rejected);
    read = read_all(ends.b, hand_made(a_write, ends.hash, 1, bytes({1, 0, 21})));
    REQUIRE(read.alert);
    CHECK(alert_error(read.which, &text) == protocol::Reason::protocol_error);
    CHECK(text.find("close_notify") != std::string::npos);
  }
  SECTION("post-handshake messages: a ticket is ignored, anything else refused") {
    Read read =
        read_all(ends.b, hand_made(a_write, ends.hash, 0, bytes({4, 0, 0, 2, 0xaa, 0xbb, 22})));
    CHECK_FALSE(read.error);
    read = read_all(ends.b, hand_made(a_write, ends.hash, 1, bytes({13, 0, 0, 0, 22})));
    CHECK(read.error == protocol::Reason::protocol_error);  // CertificateRequest
  }
  SECTION("a KeyUpdate cut short, one with a bad value, and data behind one") {
    CHECK(read_all(ends.b, hand_made(a_write, ends.hash, 0, bytes({24, 0, 0, 1, 22}))).error ==
          protocol::Reason::protocol_error);
    Ends fresh;
    CHECK(read_all(fresh.b, hand_made(a_write, fresh.hash, 0, bytes({24, 0, 0, 1, 2, 22}))).error ==
          protocol::Reason::protocol_error);
    Ends third;
    CHECK(read_all(third.b,
                   hand_made(a_write, third.hash, 0, bytes({24, 0, 0, 1, 0, 4, 0, 0, 0, 22})))
              .error == protocol::Reason::protocol_error);
  }
  SECTION("an unprotected record after the handshake") {
    Bytes record = hand_made(a_write, ends.hash, 0, bytes({'x', 23}));
    record[0] = std::byte{22};
    CHECK(read_all(ends.b, record).error == protocol::Reason::protocol_error);
  }
}

}  // namespace ringtunnel::crypto::tls
