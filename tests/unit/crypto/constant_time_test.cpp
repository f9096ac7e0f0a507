// SPDX-License-Identifier: MIT
// Tests for crypto::constant_time_equal and SecureBuffer.
#include "crypto/constant_time.hpp"

#include <catch2/catch.hpp>

#include "crypto/secure_buffer.hpp"
#include "hex.hpp"

using namespace ringtunnel::crypto;
using testing::bytes_of;

TEST_CASE("constant_time_equal compares lengths, then contents", "[crypto][constant_time]") {
  CHECK(constant_time_equal({}, {}));
  CHECK(constant_time_equal(bytes_of("token"), bytes_of("token")));
  CHECK_FALSE(constant_time_equal(bytes_of("token"), bytes_of("tokeN")));
  CHECK_FALSE(constant_time_equal(bytes_of("Token"), bytes_of("token")));
  CHECK_FALSE(constant_time_equal(bytes_of("token"), bytes_of("token2")));
  CHECK_FALSE(constant_time_equal(bytes_of("token"), {}));
}

TEST_CASE("SecureBuffer holds, wipes and moves its bytes", "[crypto][secure_buffer]") {
  const std::array<std::byte, 4> bytes{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  SecureBuffer<4> buffer(bytes);
  CHECK(constant_time_equal(buffer.span(), bytes));
  SecureBuffer<4> moved(std::move(buffer));
  CHECK(constant_time_equal(moved.span(), bytes));
  CHECK(constant_time_equal(buffer.span(), std::array<std::byte, 4>{}));  // NOLINT: wiped source
  moved.wipe();
  CHECK(constant_time_equal(moved.span(), std::array<std::byte, 4>{}));
  static_assert(SecureBuffer<4>::size() == 4);
}
