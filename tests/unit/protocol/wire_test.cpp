// SPDX-License-Identifier: MIT
// ByteReader, ByteWriter and UTF-8 validation.
#include "protocol/wire.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "test_bytes.hpp"

using namespace ringtunnel::protocol;
using namespace ringtunnel::protocol::test;

TEST_CASE("ByteWriter appends big-endian integers, bytes and str8", "[protocol][wire]") {
  Bytes out = hex("aa");
  ByteWriter w(out);
  CHECK(w.u8(0x01));
  CHECK(w.u16(0x0203));
  CHECK(w.u32(0x04050607));
  CHECK(w.u64(0x08090a0b0c0d0e0fULL));
  CHECK(w.bytes(hex("1011")));
  CHECK(w.str8("hi"));
  CHECK(w.ok());
  CHECK(w.size() == 1 + 2 + 4 + 8 + 2 + 3);
  CHECK(out == hex("aa 01 0203 04050607 08090a0b0c0d0e0f 1011 02 6869"));
}

TEST_CASE("ByteWriter over a fixed span detects overflow and stays failed", "[protocol][wire]") {
  std::array<std::byte, 5> buffer{};
  ByteWriter w{std::span<std::byte>(buffer)};
  CHECK(w.u32(0x01020304));
  CHECK_FALSE(w.u16(0x0506));  // one byte of room left: nothing written
  CHECK_FALSE(w.ok());
  CHECK_FALSE(w.u8(0x07));  // sticky, even though it would fit
  CHECK(w.size() == 4);
  CHECK(buffer[4] == std::byte{0});
}

TEST_CASE("ByteWriter refuses a str8 over 255 bytes", "[protocol][wire]") {
  Bytes out;
  ByteWriter w(out);
  CHECK(w.str8(std::string(255, 'x')));
  CHECK_FALSE(w.str8(std::string(256, 'x')));
  CHECK_FALSE(w.ok());
  CHECK(out.size() == 256);
}

TEST_CASE("ByteReader reads what ByteWriter wrote and never past the end", "[protocol][wire]") {
  const Bytes in = hex("01 0203 04050607 08090a0b0c0d0e0f 02 6869 ff");
  ByteReader r(in);
  CHECK(r.u8() == 0x01);
  CHECK(r.u16() == 0x0203);
  CHECK(r.u32() == 0x04050607U);
  CHECK(r.u64() == 0x08090a0b0c0d0e0fULL);
  CHECK(r.str8() == "hi");
  CHECK(r.remaining() == 1);
  CHECK_FALSE(r.u16());
  CHECK(r.remaining() == 1);  // a failed read consumes nothing
  CHECK_FALSE(r.str8());      // length 255, 0 bytes follow
  CHECK_FALSE(r.bytes(2));
  CHECK(r.bytes(1)->size() == 1);
  CHECK(r.empty());
  CHECK_FALSE(r.u8());
  CHECK_FALSE(r.u64());
}

TEST_CASE("ByteReader views point into the input", "[protocol][wire]") {
  const Bytes in = hex("03 616263 0102");
  ByteReader r(in);
  const auto s = r.str8();
  REQUIRE(s);
  CHECK(static_cast<const void*>(s->data()) == static_cast<const void*>(in.data() + 1));
  std::array<std::byte, 2> two{};
  CHECK(r.copy_to(two));
  CHECK(two[1] == std::byte{2});
  std::array<std::byte, 1> one{};
  CHECK_FALSE(r.copy_to(one));
}

TEST_CASE("UTF-8 validation follows RFC 3629", "[protocol][wire]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("gr\xc3\xbc\xc3\x9f"));      // grüß
  CHECK(is_valid_utf8("\xe2\x82\xac"));            // €
  CHECK(is_valid_utf8("\xf0\x9f\x98\x80"));        // U+1F600
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));        // U+10FFFF
  CHECK_FALSE(is_valid_utf8("\x80"));              // lone continuation
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xc3"));              // cut off
  CHECK_FALSE(is_valid_utf8("\xe2\x82"));          // cut off
  CHECK_FALSE(is_valid_utf8("\xe2\x28\xa1"));      // bad continuation
  CHECK_FALSE(is_valid_utf8("\xff"));
}
