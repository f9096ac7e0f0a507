// SPDX-License-Identifier: MIT
// Tests for crypto::AeadKey: published vectors, counter nonces, tampering, in-place use.
#include "crypto/aead.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <vector>

#include "hex.hpp"

using namespace ringtunnel::crypto;
using testing::array_from_hex;
using testing::bytes_of;
using testing::from_hex;
using testing::to_hex;

namespace ringtunnel::crypto {

// Reaches the explicit-nonce entry points, for vectors whose nonce is not 0^32 || counter.
struct AeadKeyTestPeer {
  static Result<std::size_t> seal(AeadKey& key, std::span<const std::byte> nonce,
                                  std::span<const std::byte> aad,
                                  std::span<const std::byte> plaintext, std::span<std::byte> out) {
    return key.seal_with_nonce(nonce.first<kAeadNonceSize>(), aad, plaintext, out);
  }
  static Result<std::size_t> open(AeadKey& key, std::span<const std::byte> nonce,
                                  std::span<const std::byte> aad, std::span<const std::byte> input,
                                  std::span<std::byte> out) {
    return key.open_with_nonce(nonce.first<kAeadNonceSize>(), aad, input, out);
  }
};

}  // namespace ringtunnel::crypto

namespace {

AeadKey make_key(AeadAlgorithm algorithm, std::string_view key_hex) {
  auto key = AeadKey::create(algorithm, from_hex(key_hex));
  REQUIRE(key.ok());
  return std::move(key).value();
}

struct Vector {
  AeadAlgorithm algorithm;
  const char* key;
  const char* nonce;
  const char* aad;
  std::vector<std::byte> plaintext;
  const char* ciphertext_and_tag;
};

// Seals with the explicit nonce, compares, then opens the result back.
void check_vector(const Vector& v) {
  AeadKey key = make_key(v.algorithm, v.key);
  const auto nonce = from_hex(v.nonce);
  const auto aad = from_hex(v.aad);
  std::vector<std::byte> sealed(v.plaintext.size() + kAeadTagSize);
  const auto n = AeadKeyTestPeer::seal(key, nonce, aad, v.plaintext, sealed);
  REQUIRE(n.ok());
  CHECK(*n == sealed.size());
  CHECK(to_hex(sealed) == v.ciphertext_and_tag);
  std::vector<std::byte> opened(v.plaintext.size());
  const auto m = AeadKeyTestPeer::open(key, nonce, aad, sealed, opened);
  REQUIRE(m.ok());
  CHECK(opened == v.plaintext);
}

constexpr std::string_view kChachaA5Key =
    "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
constexpr std::string_view kChachaA5Ciphertext =
    "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
    "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
    "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
    "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
    "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
    "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
    "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
    "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
    "a6ad5cb4022b02709b"
    "eead9d67890cbb22392336fea1851f38";
constexpr std::string_view kChachaA5Plaintext =
    "Internet-Drafts are draft documents valid for a maximum of six months and may be "
    "updated, replaced, or obsoleted by other documents at any time. It is inappropriate to "
    "use Internet-Drafts as reference material or to cite them other than as "
    "/\xe2\x80\x9cwork in progress./\xe2\x80\x9d";

}  // namespace

TEST_CASE("both AEADs are available", "[crypto][aead]") {
  CHECK(aead_supported(AeadAlgorithm::aes_256_gcm));
  CHECK(aead_supported(AeadAlgorithm::chacha20_poly1305));
  CHECK_FALSE(aead_supported(static_cast<AeadAlgorithm>(0)));
  CHECK_FALSE(aead_supported(static_cast<AeadAlgorithm>(3)));
}

TEST_CASE("AES-256-GCM matches McGrew-Viega GCM test case 16", "[crypto][aead]") {
  check_vector({AeadAlgorithm::aes_256_gcm,
                "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
                "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
                from_hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                         "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"),
                "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
                "76fc6ece0f4e1768cddf8853bb2d551b"});
}

TEST_CASE("ChaCha20-Poly1305 matches RFC 8439 section 2.8.2", "[crypto][aead]") {
  check_vector({AeadAlgorithm::chacha20_poly1305,
                "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
                "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
                bytes_of("Ladies and Gentlemen of the class of '99: If I could offer you only "
                         "one tip for the future, sunscreen would be it."),
                "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
                "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
                "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
                "3ff4def08e4b7a9de576d26586cec64b6116"
                "1ae10b594f09e26a7e902ecbd0600691"});
}

TEST_CASE("counter nonces are 0x00000000 || counter, big-endian", "[crypto][aead]") {
  SECTION("RFC 8439 appendix A.5, whose nonce is 00000000 0102030405060708") {
    AeadKey key = make_key(AeadAlgorithm::chacha20_poly1305, kChachaA5Key);
    const auto input = from_hex(kChachaA5Ciphertext);
    std::vector<std::byte> plaintext(input.size() - kAeadTagSize);
    const auto n =
        key.open(0x0102030405060708, from_hex("f33388860000000000004e91"), input, plaintext);
    REQUIRE(n.ok());
    CHECK(plaintext == bytes_of(kChachaA5Plaintext));
    std::vector<std::byte> sealed(input.size());
    REQUIRE(
        key.seal(0x0102030405060708, from_hex("f33388860000000000004e91"), plaintext, sealed).ok());
    CHECK(sealed == input);
  }
  SECTION("AES-256-GCM, expected value from Python cryptography's AESGCM") {
    // AESGCM(key).encrypt(bytes.fromhex("000000000102030405060708"), plaintext, aad)
    AeadKey key = make_key(AeadAlgorithm::aes_256_gcm,
                           "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    const auto plaintext = bytes_of("ringtunnel record, counter layout");
    const auto aad = from_hex("00000031");  // the record's length field
    std::vector<std::byte> sealed(plaintext.size() + kAeadTagSize);
    REQUIRE(key.seal(0x0102030405060708, aad, plaintext, sealed).ok());
    CHECK(to_hex(sealed) ==
          "1aefc46a5c632f25e7dab6cc05b475f99a5b71291f4970132b1dc73c0ea284f5ba"
          "8066765245fb041ee73e27b3c90cde5e");
  }
}

TEST_CASE("open fails on any tampering, and wipes what it wrote", "[crypto][aead]") {
  for (AeadAlgorithm algorithm : {AeadAlgorithm::aes_256_gcm, AeadAlgorithm::chacha20_poly1305}) {
    AeadKey key = make_key(algorithm, std::string(64, '7'));
    const auto aad = from_hex("00000030");
    const auto plaintext = bytes_of("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    std::vector<std::byte> sealed(plaintext.size() + kAeadTagSize);
    REQUIRE(key.seal(42, aad, plaintext, sealed).ok());
    std::vector<std::byte> out(plaintext.size(), std::byte{0xaa});
    REQUIRE(key.open(42, aad, sealed, out).ok());
    REQUIRE(out == plaintext);

    auto expect_rejected = [&](std::uint64_t counter, std::span<const std::byte> record_aad,
                               std::span<const std::byte> record) {
      std::vector<std::byte> target(plaintext.size(), std::byte{0xaa});
      const auto opened = key.open(counter, record_aad, record, target);
      CHECK(opened.error() == std::errc::bad_message);
      // Every byte open() wrote is wiped: no unauthenticated plaintext is left behind.
      const std::size_t written = record.size() - kAeadTagSize;
      CHECK(std::all_of(target.begin(), target.begin() + static_cast<std::ptrdiff_t>(written),
                        [](std::byte b) { return b == std::byte{0}; }));
    };
    auto flipped = sealed;
    flipped[3] ^= std::byte{0x01};
    expect_rejected(42, aad, flipped);  // ciphertext byte
    flipped = sealed;
    flipped.back() ^= std::byte{0x80};
    expect_rejected(42, aad, flipped);                  // tag byte
    expect_rejected(42, from_hex("00000031"), sealed);  // different AAD
    expect_rejected(43, aad, sealed);                   // different counter (replay/reorder)
    expect_rejected(42, aad, std::span(sealed).first(sealed.size() - 1));  // truncated

    AeadKey other = make_key(algorithm, std::string(64, '8'));
    std::vector<std::byte> target(plaintext.size());
    CHECK(other.open(42, aad, sealed, target).error() == std::errc::bad_message);
    CHECK(key.open(42, aad, std::span(sealed).first(kAeadTagSize - 1), target).error() ==
          std::errc::bad_message);
  }
}

TEST_CASE("seal and open work in place", "[crypto][aead]") {
  for (AeadAlgorithm algorithm : {AeadAlgorithm::aes_256_gcm, AeadAlgorithm::chacha20_poly1305}) {
    AeadKey key = make_key(algorithm, std::string(64, 'a'));
    const auto plaintext = bytes_of("frame bytes sealed where they lie");
    std::vector<std::byte> record(plaintext.size() + kAeadTagSize);
    std::copy(plaintext.begin(), plaintext.end(), record.begin());
    std::vector<std::byte> separate(record.size());
    REQUIRE(key.seal(7, {}, plaintext, separate).ok());

    const auto n = key.seal(7, {}, std::span(record).first(plaintext.size()), record);
    REQUIRE(n.ok());
    CHECK(record == separate);
    const auto m = key.open(7, {}, record, record);
    REQUIRE(m.ok());
    CHECK(*m == plaintext.size());
    CHECK(std::equal(plaintext.begin(), plaintext.end(), record.begin()));
  }
}

TEST_CASE("empty plaintext and empty AAD are valid records", "[crypto][aead]") {
  AeadKey key = make_key(AeadAlgorithm::aes_256_gcm, std::string(64, '0'));
  std::array<std::byte, kAeadTagSize> tag_only{};
  REQUIRE(key.seal(0, {}, {}, tag_only).ok());
  // McGrew-Viega test case 13: AES-256, zero key, zero IV, no data.
  CHECK(to_hex(tag_only) == "530f8afbc74536b9a963b4f1c4cb738b");
  CHECK(key.open(0, {}, tag_only, {}).ok());
  CHECK(key.open(1, {}, tag_only, {}).error() == std::errc::bad_message);
}

TEST_CASE("AeadKey refuses bad arguments", "[crypto][aead]") {
  CHECK(AeadKey::create(AeadAlgorithm::aes_256_gcm, from_hex("00")).error() ==
        std::errc::invalid_argument);
  const auto unknown = AeadKey::create(static_cast<AeadAlgorithm>(9), std::vector<std::byte>(32));
  CHECK(unknown.error() == std::errc::operation_not_supported);

  AeadKey key = make_key(AeadAlgorithm::chacha20_poly1305, std::string(64, '1'));
  CHECK(key.algorithm() == AeadAlgorithm::chacha20_poly1305);
  std::vector<std::byte> buffer(128);
  const auto plaintext = std::span(buffer).first(32);
  // Output one byte short of plaintext + tag.
  CHECK(key.seal(0, {}, plaintext, std::span(buffer).subspan(32, 47)).error() ==
        std::errc::invalid_argument);
  // Shifted overlap: the cipher would read bytes it already overwrote.
  CHECK(key.seal(0, {}, std::span(buffer).first(16), std::span(buffer).subspan(8, 32)).error() ==
        std::errc::invalid_argument);
  CHECK(key.open(0, {}, std::span(buffer).subspan(8, 40), std::span(buffer).first(24)).error() ==
        std::errc::invalid_argument);

  AeadKey moved = std::move(key);
  CHECK(moved.algorithm() == AeadAlgorithm::chacha20_poly1305);
}

TEST_CASE("seal_gather equals seal of the concatenated pieces", "[crypto][aead]") {
  for (AeadAlgorithm algorithm : {AeadAlgorithm::aes_256_gcm, AeadAlgorithm::chacha20_poly1305}) {
    AeadKey key = make_key(algorithm, std::string(64, 'c'));
    std::vector<std::byte> plaintext(70000);
    for (std::size_t i = 0; i < plaintext.size(); ++i) plaintext[i] = static_cast<std::byte>(i * 7);
    const auto aad = bytes_of("hdr!");
    std::vector<std::byte> whole(plaintext.size() + kAeadTagSize);
    REQUIRE(key.seal(42, aad, plaintext, whole).ok());
    // Odd splits (a 10-byte frame header, a partial block, an empty piece, the bulk).
    const std::span<const std::byte> all(plaintext);
    const std::span<const std::byte> pieces[] = {all.first(10), all.subspan(10, 5), {},
                                                 all.subspan(15, 32768), all.subspan(32783)};
    std::vector<std::byte> gathered(whole.size());
    const auto n = key.seal_gather(42, aad, pieces, gathered);
    REQUIRE(n.ok());
    CHECK(*n == whole.size());
    CHECK(gathered == whole);
    CHECK(key.open(42, aad, gathered, gathered).ok());
  }
}

TEST_CASE("seal_gather refuses overlaps and short output", "[crypto][aead]") {
  AeadKey key = make_key(AeadAlgorithm::aes_256_gcm, std::string(64, 'd'));
  std::vector<std::byte> buffer(256);
  const std::span<std::byte> all(buffer);
  const std::span<const std::byte> inside[] = {all.subspan(100, 8), all.subspan(8, 8)};
  CHECK(key.seal_gather(0, {}, inside, all.first(64)).error() == std::errc::invalid_argument);
  const std::span<const std::byte> in_place[] = {all.first(16)};
  CHECK(key.seal_gather(0, {}, in_place, all.first(64)).error() == std::errc::invalid_argument);
  const std::span<const std::byte> fine[] = {all.subspan(200, 16), all.subspan(216, 16)};
  CHECK(key.seal_gather(0, {}, fine, all.first(47)).error() == std::errc::invalid_argument);
  CHECK(key.seal_gather(0, {}, fine, all.first(48)).ok());
}
