// SPDX-License-Identifier: MIT
// Record header bounds, header writing and the nonce layout.
#include "protocol/record.hpp"

#include <catch2/catch.hpp>

#include "test_bytes.hpp"

using namespace ringtunnel::protocol;
using namespace ringtunnel::protocol::test;
using Catch::Matchers::Contains;

namespace {
ringtunnel::Result<uint32_t> parse(uint32_t length) {
  std::array<std::byte, kRecordHeaderSize> header{};
  write_record_header(header, length);
  return parse_record_length(header);
}
}  // namespace

TEST_CASE("record limits are those of section 2", "[protocol][record]") {
  STATIC_REQUIRE(kMaxRecordCiphertext == 66576);
  STATIC_REQUIRE(kMinRecordCiphertext == 17);
  STATIC_REQUIRE(kTagSize == 16);
  STATIC_REQUIRE(kMaxRecordCounter == 0xffff'ffff'ffff'fffeULL);
}

TEST_CASE("record lengths 17 and 66576 are accepted", "[protocol][record]") {
  for (uint32_t length : {17U, 18U, 1000U, 65536U + 10U + 16U, 66576U}) {
    const auto r = parse(length);
    REQUIRE(r.ok());
    CHECK(*r == length);
  }
}

TEST_CASE("a record shorter than a tag plus one byte is a protocol error", "[protocol][record]") {
  for (uint32_t length : {0U, 1U, 16U}) {
    const auto r = parse(length);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Reason::protocol_error);
  }
  CHECK(error_text(parse(16)) == "record length is 16; the minimum is 17 (protocol_error)");
}

TEST_CASE("a record over 66576 bytes is frame_too_large", "[protocol][record]") {
  for (uint32_t length : {66577U, 1U << 20, 0xffffffffU}) {
    const auto r = parse(length);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Reason::frame_too_large);
  }
  CHECK(error_text(parse(66577)) == "record length is 66577; the limit is 66576 (frame_too_large)");
  CHECK_THAT(error_text(parse(0xffffffffU)), Contains("more than"));
}

TEST_CASE("the record header is the big-endian length", "[protocol][record]") {
  std::array<std::byte, kRecordHeaderSize> header{};
  write_record_header(header, 0x00010203);
  CHECK(Bytes(header.begin(), header.end()) == hex("00010203"));
}

TEST_CASE("the nonce is four zero bytes and the big-endian counter", "[protocol][record]") {
  const auto nonce = record_nonce(0x0102030405060708ULL);
  CHECK(Bytes(nonce.begin(), nonce.end()) == hex("00000000 0102030405060708"));
  const auto last = record_nonce(kMaxRecordCounter);
  CHECK(Bytes(last.begin(), last.end()) == hex("00000000 fffffffffffffffe"));
}
