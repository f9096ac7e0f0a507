// SPDX-License-Identifier: MIT
// ResponseParser: heads, body bytes passed through, message ends for each framing.
#include "http/response_head.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using ringtunnel::http::ResponseParser;
using Event = ResponseParser::Event;

namespace {

std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

struct Walk {
  std::vector<int> heads;  // statuses, interim ones included
  std::string body;        // the bytes reported as body (done's included)
  bool done = false;
  std::size_t used = 0;  // input consumed until done
};

// Feeds `text` in pieces of `piece` bytes until the response is done.
Walk walk(ResponseParser& parser, std::string_view text, std::size_t piece) {
  Walk out;
  const auto input = bytes(text);
  bool in_body = false;
  while (out.used < input.size() && !out.done) {
    const auto n = std::min(piece, input.size() - out.used);
    const auto step = parser.feed(std::span(input).subspan(out.used, n));
    const std::string_view taken(text.substr(out.used, step.used));
    out.used += step.used;
    switch (step.event) {
      case Event::head:
        out.heads.push_back(parser.head().status);
        in_body = parser.head().status >= 200;
        out.done = step.ended;
        break;
      case Event::body:
        out.body += taken;
        break;
      case Event::done:
        out.body += taken;
        out.done = true;
        break;
      case Event::need_more:
        CHECK_FALSE(in_body);
        break;
      case Event::failed:
        FAIL(parser.error().message);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("responses: Content-Length, chunked, 100-continue, HEAD, 204, 101", "[response]") {
  for (std::size_t piece : {1u, 5u, 4096u}) {
    INFO(piece);
    ResponseParser parser;
    parser.expect(false);
    const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b \r\n\r\nhello";
    const std::string second =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n";
    auto w = walk(parser, first + second, piece);
    CHECK(w.heads == std::vector<int>{200});
    CHECK(w.body == "hello");
    CHECK(w.used == first.size());
    parser.expect(false);
    w = walk(parser, second + "HTTP/1.1 204", piece);
    CHECK(w.heads == std::vector<int>{100, 201});
    CHECK(w.body == "3\r\nabc\r\n0\r\n\r\n");  // the chunk framing passes as it is
    CHECK(w.used == second.size());
    parser.expect(true);  // HEAD: no body, whatever Content-Length says
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
    w = walk(parser, head + "HTTP/1.1 204 No Content\r\n\r\n", piece);
    CHECK(w.done);
    CHECK(w.used == head.size());
    CHECK(w.body.empty());
    parser.expect(false);
    w = walk(parser, "HTTP/1.1 204 No Content\r\nX: y\r\n\r\n", piece);
    CHECK(w.done);
    CHECK(w.heads == std::vector<int>{204});
  }
  ResponseParser upgrade;
  upgrade.expect(false);
  auto w = walk(upgrade,
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\n\r\n\x81\x05hello",
                4096);
  CHECK(w.heads == std::vector<int>{101});
  CHECK(w.done);
  CHECK(upgrade.head().field("upgrade") == "websocket");
}

TEST_CASE("a body read until close ends with finish(); a cut one does not", "[response]") {
  ResponseParser parser;
  parser.expect(false);
  auto w = walk(parser, "HTTP/1.0 200 OK\r\n\r\nsome bytes", 4096);
  CHECK_FALSE(w.done);
  CHECK(w.body == "some bytes");
  CHECK(parser.finish());
  ResponseParser cut;
  cut.expect(false);
  w = walk(cut, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", 4096);
  CHECK_FALSE(cut.finish());
}

TEST_CASE("malformed responses fail with 502", "[response]") {
  ResponseParser parser;
  parser.expect(false);
  const auto step = parser.feed(bytes("HTTP/1.1 abc OK\r\n\r\n"));
  CHECK(step.event == Event::failed);
  CHECK(parser.error().status == 502);
  ResponseParser huge;
  huge.expect(false);
  const std::string big = "HTTP/1.1 200 OK\r\nX: " + std::string(70000, 'a') + "\r\n\r\n";
  CHECK(huge.feed(bytes(big)).event == Event::failed);
}
