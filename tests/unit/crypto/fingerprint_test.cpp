// SPDX-License-Identifier: MIT
// Tests for crypto::fingerprint against a value computed with the openssl CLI.
#include "crypto/fingerprint.hpp"

#include <catch2/catch.hpp>

#include "hex.hpp"

using ringtunnel::crypto::fingerprint;
using ringtunnel::crypto::testing::array_from_hex;

TEST_CASE("fingerprint is SHA256: plus unpadded base64 of the key's SHA-256",
          "[crypto][fingerprint]") {
  // The RFC 8032 TEST 1 public key. Expected value computed independently with:
  //   echo -n d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a |
  //     xxd -r -p | openssl dgst -sha256 -binary | base64 | tr -d '='
  const auto key =
      array_from_hex<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  CHECK(fingerprint(key) == "SHA256:If4x36FUomFia/hUBG/SJxt77UtqvkWqWId+9H+XIbk");
  CHECK(fingerprint(key).size() == 7 + 43);
  CHECK(fingerprint(std::array<std::byte, 32>{}) != fingerprint(key));
}
