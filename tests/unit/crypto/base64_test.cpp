// SPDX-License-Identifier: MIT
// Tests for the internal base64 codec (RFC 4648 §10 vectors, strict decoding).
#include "crypto/base64.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "hex.hpp"

using ringtunnel::crypto::detail::base64_decode;
using ringtunnel::crypto::detail::base64_encode;
using ringtunnel::crypto::testing::bytes_of;

namespace {

// Decodes `text` into exactly `size` bytes; the bytes as text, or "FAIL".
std::string decoded(std::string_view text, std::size_t size) {
  std::vector<std::byte> out(size);
  if (!base64_decode(text, out)) return "FAIL";
  return std::string(reinterpret_cast<const char*>(out.data()), out.size());
}

}  // namespace

TEST_CASE("base64 matches RFC 4648 section 10 both ways", "[crypto][base64]") {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64_encode(bytes_of(plain)) == encoded);
    CHECK(decoded(encoded, std::string_view(plain).size()) == plain);
  }
}

TEST_CASE("base64_decode refuses anything but the padded encoding of the expected size",
          "[crypto][base64]") {
  CHECK(decoded("Zm9vYmE=", 5) == "fooba");
  CHECK(decoded("Zm9vYmE=", 4) == "FAIL");   // another size
  CHECK(decoded("Zm9vYmE", 5) == "FAIL");    // padding missing
  CHECK(decoded("Zm9vYm==", 5) == "FAIL");   // a '=' where a character belongs
  CHECK(decoded("Zm9v=mE=", 5) == "FAIL");   // a '=' inside
  CHECK(decoded("Zm9vYmE.", 5) == "FAIL");   // not the padding character
  CHECK(decoded("Zm9v YmE", 5) == "FAIL");   // whitespace is not skipped
  CHECK(decoded("Zm9-YmE=", 5) == "FAIL");   // the URL-safe alphabet is not this one
  CHECK(decoded("Zm9vYmE==", 5) == "FAIL");  // too long
  // Unused low bits of the last character are ignored, as EVP_DecodeBlock does.
  CHECK(decoded("Zm9=", 2) == "fo");
}
