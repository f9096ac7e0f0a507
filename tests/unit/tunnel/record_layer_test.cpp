// SPDX-License-Identifier: MIT
// RecordSealer/RecordOpener: layout, counters, tampering, limits and key updates (section 2).
#include "tunnel/record_layer.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>

#include "protocol/limits.hpp"
#include "protocol/reason.hpp"
#include "protocol/record.hpp"
#include "tunnel_test_support.hpp"

using namespace ringtunnel;
using namespace ringtunnel::tunnel;
using namespace ringtunnel::tunnel::test;
using protocol::Reason;
using namespace std::chrono_literals;

namespace ringtunnel::tunnel {
// Reaches the counters so the limits near 2^24 and 2^64 can be tested without sealing that
// many records.
struct RecordLayerTestPeer {
  static void set_counter(RecordSealer& sealer, std::uint64_t counter) {
    sealer.counter_ = counter;
  }
  static void set_counter(RecordOpener& opener, std::uint64_t counter) {
    opener.counter_ = counter;
  }
};
}  // namespace ringtunnel::tunnel

namespace {

const Clock::time_point kStart{};

Secret secret_of(uint8_t value) {
  std::array<std::byte, kSecretSize> bytes;
  bytes.fill(std::byte{value});
  return Secret(bytes);
}

struct Direction {
  RecordSealer sealer;
  RecordOpener opener;
};

Direction direction(crypto::AeadAlgorithm algorithm = crypto::AeadAlgorithm::aes_256_gcm,
                    uint8_t secret = 7) {
  const Secret s = secret_of(secret);
  return {must(RecordSealer::create(algorithm, s.span(), kStart)),
          must(RecordOpener::create(algorithm, s.span()))};
}

Bytes seal(RecordSealer& sealer, const Bytes& plaintext) {
  Bytes record(RecordSealer::sealed_size(plaintext.size()));
  const std::size_t size = must(sealer.seal(plaintext, record));
  REQUIRE(size == record.size());
  return record;
}

// Opens a copy of `record`; the plaintext, or the error.
Result<Bytes> open(RecordOpener& opener, Bytes record) {
  auto opened = opener.open(record);
  if (!opened) return opened.error();
  return Bytes(record.begin() + 4, record.begin() + 4 + static_cast<std::ptrdiff_t>(*opened));
}

}  // namespace

TEST_CASE("a sealed record is length || ciphertext || tag and opens", "[tunnel][record]") {
  for (auto algorithm :
       {crypto::AeadAlgorithm::aes_256_gcm, crypto::AeadAlgorithm::chacha20_poly1305}) {
    Direction d = direction(algorithm);
    const Bytes plaintext = text("frames go here");
    const Bytes record = seal(d.sealer, plaintext);
    CHECK(RecordSealer::sealed_size(plaintext.size()) == 4 + plaintext.size() + 16);
    std::array<std::byte, 4> header{};
    protocol::write_record_header(header, static_cast<uint32_t>(plaintext.size() + 16));
    CHECK(Bytes(record.begin(), record.begin() + 4) == Bytes(header.begin(), header.end()));
    CHECK(Bytes(record.begin() + 4, record.begin() + 4 + 14) != plaintext);
    CHECK(must(open(d.opener, record)) == plaintext);
    CHECK(d.sealer.counter() == 1);
    CHECK(d.opener.counter() == 1);
  }
}

TEST_CASE("records seal in place behind their header", "[tunnel][record]") {
  Direction d = direction();
  const Bytes plaintext = text("in place");
  // Header room, the plaintext, tag room. (Built by insert: g++ 12 -O3 reports a bogus
  // -Wstringop-overflow for std::copy into buffer.begin() + 4.)
  Bytes buffer(4);
  buffer.insert(buffer.end(), plaintext.begin(), plaintext.end());
  buffer.resize(RecordSealer::sealed_size(plaintext.size()));
  const auto in_place = std::span(buffer).subspan(4, plaintext.size());
  CHECK(must(d.sealer.seal(in_place, buffer)) == buffer.size());
  CHECK(must(open(d.opener, buffer)) == plaintext);
  // Any other overlap is refused.
  Bytes shifted(RecordSealer::sealed_size(plaintext.size()) + 8);
  const auto result = d.sealer.seal(std::span(shifted).subspan(2, plaintext.size()), shifted);
  CHECK(result.error() == std::errc::invalid_argument);
}

TEST_CASE("a record sealed from pieces opens to their concatenation", "[tunnel][record]") {
  Direction d = direction(crypto::AeadAlgorithm::chacha20_poly1305);
  const Bytes header = text("0123456789");
  const Bytes payload(40000, std::byte{0x33});
  const std::span<const std::byte> pieces[] = {header, payload};
  Bytes record(RecordSealer::sealed_size(header.size() + payload.size()));
  CHECK(must(d.sealer.seal_gather(pieces, record)) == record.size());
  Bytes expected = header;
  expected.insert(expected.end(), payload.begin(), payload.end());
  CHECK(must(open(d.opener, record)) == expected);
  CHECK(d.sealer.counter() == 1);
  // An empty record and an oversized one are refused without using a counter.
  CHECK(d.sealer.seal_gather({}, record).error() == std::errc::invalid_argument);
  const Bytes huge(protocol::kMaxRecordPlaintext + 1);
  const std::span<const std::byte> too_much[] = {huge};
  Bytes big(RecordSealer::sealed_size(huge.size()));
  CHECK(d.sealer.seal_gather(too_much, big).error() == std::errc::message_size);
  CHECK(d.sealer.counter() == 1);
}

TEST_CASE("plaintext size and output room are checked", "[tunnel][record]") {
  Direction d = direction();
  Bytes out(RecordSealer::sealed_size(protocol::kMaxRecordPlaintext + 1));
  CHECK(d.sealer.seal({}, out).error() == std::errc::invalid_argument);
  const Bytes too_big(protocol::kMaxRecordPlaintext + 1);
  CHECK(d.sealer.seal(too_big, out).error() == std::errc::message_size);
  const Bytes small = text("x");
  CHECK(d.sealer.seal(small, std::span(out).first(small.size() + 19)).error() ==
        std::errc::invalid_argument);
  CHECK(d.sealer.counter() == 0);  // nothing consumed: the sealer stays usable
  const Bytes largest(protocol::kMaxRecordPlaintext, std::byte{0x61});
  const Bytes record = seal(d.sealer, largest);
  CHECK(record.size() == 4 + protocol::kMaxRecordCiphertext);
  CHECK(must(open(d.opener, record)) == largest);
}

TEST_CASE("reordered, duplicated or skipped records fail, and for good", "[tunnel][record]") {
  SECTION("reordered") {
    Direction d = direction();
    const Bytes first = seal(d.sealer, text("one"));
    const Bytes second = seal(d.sealer, text("two"));
    CHECK(open(d.opener, second).error() == Reason::decrypt_failed);
    CHECK(open(d.opener, first).error() == Reason::decrypt_failed);  // no retry
  }
  SECTION("duplicated") {
    Direction d = direction();
    const Bytes first = seal(d.sealer, text("one"));
    CHECK(must(open(d.opener, first)) == text("one"));
    CHECK(open(d.opener, first).error() == Reason::decrypt_failed);
  }
  SECTION("skipped") {
    Direction d = direction();
    (void)seal(d.sealer, text("lost"));
    const Bytes second = seal(d.sealer, text("two"));
    CHECK(open(d.opener, second).error() == Reason::decrypt_failed);
  }
  SECTION("a good record after a failure still fails") {
    Direction d = direction();
    Bytes record = seal(d.sealer, text("one"));
    Bytes broken = record;
    broken[6] ^= std::byte{1};
    CHECK(open(d.opener, broken).error() == Reason::decrypt_failed);
    CHECK(open(d.opener, record).error() == Reason::decrypt_failed);
  }
}

TEST_CASE("a flipped bit anywhere in a record fails with decrypt_failed", "[tunnel][record]") {
  Direction reference = direction();
  const Bytes record = seal(reference.sealer, text("authenticated, header included"));
  for (std::size_t i = 0; i < record.size(); ++i) {
    for (uint8_t bit : {0x01, 0x80}) {
      Direction d = direction();
      Bytes copy = record;
      copy[i] ^= std::byte{bit};
      INFO("byte " << i << " bit " << int{bit});
      CHECK(open(d.opener, copy).error() == Reason::decrypt_failed);
    }
  }
}

TEST_CASE("truncated, extended or wrongly framed records fail", "[tunnel][record]") {
  Direction reference = direction();
  const Bytes record = seal(reference.sealer, text("some plaintext"));
  for (std::size_t size : {std::size_t{0}, std::size_t{3}, std::size_t{4}, record.size() - 1}) {
    Direction d = direction();
    CHECK(open(d.opener, Bytes(record.begin(), record.begin() + static_cast<long>(size))).error() ==
          Reason::decrypt_failed);
  }
  Direction d = direction();
  Bytes longer = record;
  longer.push_back(std::byte{0});
  CHECK(open(d.opener, longer).error() == Reason::decrypt_failed);
}

TEST_CASE("a record under another secret or algorithm fails", "[tunnel][record]") {
  Direction a = direction(crypto::AeadAlgorithm::aes_256_gcm, 1);
  Direction b = direction(crypto::AeadAlgorithm::aes_256_gcm, 2);
  Direction c = direction(crypto::AeadAlgorithm::chacha20_poly1305, 1);
  const Bytes record = seal(a.sealer, text("for a"));
  CHECK(open(b.opener, record).error() == Reason::decrypt_failed);
  CHECK(open(c.opener, record).error() == Reason::decrypt_failed);
}

TEST_CASE("an unknown algorithm cannot make a sealer", "[tunnel][record]") {
  const Secret s = secret_of(1);
  const auto sealer = RecordSealer::create(crypto::AeadAlgorithm{9}, s.span(), kStart);
  CHECK(sealer.error() == std::errc::operation_not_supported);
  CHECK(RecordOpener::create(crypto::AeadAlgorithm{0}, s.span()).error() ==
        std::errc::operation_not_supported);
}

TEST_CASE("a key update is due before 2^24 records or after an hour", "[tunnel][record]") {
  Direction d = direction();
  CHECK_FALSE(d.sealer.key_update_due(kStart));
  CHECK_FALSE(d.sealer.key_update_due(kStart + 59min + 59s));
  CHECK(d.sealer.key_update_due(kStart + 1h));

  RecordLayerTestPeer::set_counter(d.sealer, protocol::kKeyUpdateRecords - 2);
  CHECK_FALSE(d.sealer.key_update_due(kStart));
  (void)seal(d.sealer, text("record 2^24 - 2"));
  // The next record is the 2^24th on this key: it must carry KEY_UPDATE.
  CHECK(d.sealer.key_update_due(kStart));

  REQUIRE(d.sealer.update_key(kStart + 2h).ok());
  CHECK(d.sealer.counter() == 0);
  CHECK_FALSE(d.sealer.key_update_due(kStart + 2h));
  CHECK_FALSE(d.sealer.key_update_due(kStart + 2h + 59min));
  CHECK(d.sealer.key_update_due(kStart + 3h));
}

TEST_CASE("after update_key on both ends records flow and the old key is gone",
          "[tunnel][record]") {
  Direction d = direction(crypto::AeadAlgorithm::chacha20_poly1305);
  // A second opener that never updates, fed the same records.
  RecordOpener stale =
      must(RecordOpener::create(crypto::AeadAlgorithm::chacha20_poly1305, secret_of(7).span()));
  // A second sealer that keeps sending under the old key.
  RecordSealer old_sealer = must(
      RecordSealer::create(crypto::AeadAlgorithm::chacha20_poly1305, secret_of(7).span(), kStart));
  for (int i = 0; i < 3; ++i) {
    const Bytes record = seal(d.sealer, text("before"));
    (void)seal(old_sealer, text("before"));
    CHECK(must(open(d.opener, record)) == text("before"));
    CHECK(must(open(stale, record)) == text("before"));
  }
  REQUIRE(d.sealer.update_key(kStart).ok());
  REQUIRE(d.opener.update_key().ok());
  CHECK(d.opener.counter() == 0);

  const Bytes fresh = seal(d.sealer, text("after"));
  CHECK(open(stale, fresh).error() == Reason::decrypt_failed);
  const Bytes old = seal(old_sealer, text("after"));  // old key, counter 3
  Bytes old_at_zero;
  {
    RecordSealer zero = must(RecordSealer::create(crypto::AeadAlgorithm::chacha20_poly1305,
                                                  secret_of(7).span(), kStart));
    old_at_zero = seal(zero, text("after"));  // old key, counter 0
  }
  Direction check = direction(crypto::AeadAlgorithm::chacha20_poly1305);
  REQUIRE(check.opener.update_key().ok());
  CHECK(open(check.opener, old_at_zero).error() == Reason::decrypt_failed);
  CHECK(must(open(d.opener, fresh)) == text("after"));
  CHECK(open(d.opener, old).error() == Reason::decrypt_failed);

  // Several updates in a row stay in step.
  Direction e = direction();
  for (int round = 0; round < 5; ++round) {
    CHECK(must(open(e.opener, seal(e.sealer, text("x")))) == text("x"));
    REQUIRE(e.sealer.update_key(kStart).ok());
    REQUIRE(e.opener.update_key().ok());
  }
  CHECK(must(open(e.opener, seal(e.sealer, text("y")))) == text("y"));
}

TEST_CASE("the record counter never wraps", "[tunnel][record]") {
  Direction d = direction();
  RecordLayerTestPeer::set_counter(d.sealer, protocol::kMaxRecordCounter);
  RecordLayerTestPeer::set_counter(d.opener, protocol::kMaxRecordCounter);
  const Bytes last = seal(d.sealer, text("last"));
  CHECK(must(open(d.opener, last)) == text("last"));
  Bytes out(64);
  const auto refused = d.sealer.seal(text("one too many"), out);
  CHECK(refused.error() == std::errc::value_too_large);                        // EOVERFLOW
  CHECK(d.sealer.seal(text("x"), out).error() == std::errc::value_too_large);  // sticky
  CHECK(d.sealer.update_key(kStart).error() == std::errc::value_too_large);
  // The opener refuses a record number 2^64 - 1 whatever it holds.
  CHECK(open(d.opener, last).error() == Reason::decrypt_failed);
}
