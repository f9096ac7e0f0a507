// SPDX-License-Identifier: MIT
// BodyScanner: where Content-Length and chunked bodies end, whatever the pieces.
#include "http/body_scanner.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using ringtunnel::http::BodyFraming;
using ringtunnel::http::BodyScanner;

namespace {

std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

// Feeds `input` in pieces of `piece` bytes; the bytes taken before done.
std::size_t body_size(BodyScanner& scanner, const std::vector<std::byte>& input,
                      std::size_t piece) {
  std::size_t taken = 0;
  while (taken < input.size() && !scanner.done() && !scanner.failed()) {
    const auto n = std::min(piece, input.size() - taken);
    const auto step = scanner.feed(std::span(input).subspan(taken, n));
    taken += step.used;
    if (step.used < n && !step.done && !scanner.failed()) FAIL("took less without finishing");
  }
  return taken;
}

}  // namespace

TEST_CASE("a Content-Length body ends after its length", "[body]") {
  const auto input = bytes("hello worldGET /next HTTP/1.1\r\n");
  for (std::size_t piece : {1u, 3u, 100u}) {
    BodyScanner scanner(BodyFraming::content_length, 11);
    CHECK(body_size(scanner, input, piece) == 11);
    CHECK(scanner.done());
  }
  CHECK(BodyScanner(BodyFraming::none, 0).done());
  CHECK(BodyScanner(BodyFraming::content_length, 0).done());
}

TEST_CASE("a chunked body ends after its last chunk and trailers, in any pieces", "[body]") {
  const std::string body = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
  const auto input = bytes(body + "GET /next HTTP/1.1\r\n");
  for (std::size_t piece : {1u, 2u, 7u, 1000u}) {
    INFO(piece);
    BodyScanner scanner(BodyFraming::chunked, 0);
    CHECK(body_size(scanner, input, piece) == body.size());
    CHECK(scanner.done());
    CHECK_FALSE(scanner.failed());
  }
}

TEST_CASE("a malformed chunked body fails with 400", "[body]") {
  BodyScanner scanner(BodyFraming::chunked, 0);
  (void)scanner.feed(bytes("zz\r\nhello\r\n"));
  CHECK(scanner.failed());
  CHECK(scanner.error().status == 400);
  CHECK(scanner.error().message.find("chunked") != std::string::npos);
}
