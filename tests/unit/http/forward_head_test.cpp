// SPDX-License-Identifier: MIT
// The heads as forwarded: exact text for representative requests and responses.
#include "http/forward_head.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace ringtunnel::http;

namespace {

RequestHead parsed(std::string_view text) {
  RequestHeadParser parser;
  std::vector<std::byte> input;
  for (char c : text) input.push_back(static_cast<std::byte>(c));
  REQUIRE(parser.feed(input).status == HeadStatus::complete);
  return parser.head();
}

const ForwardedFor kVisitor{"203.0.113.9", "http", "app.example.com"};

}  // namespace

TEST_CASE("a forwarded request loses hop-by-hop fields and gets X-Forwarded-*", "[forward]") {
  std::string out;
  append_forwarded_request(
      parsed("POST /x?y HTTP/1.1\r\nHost: app.example.com\r\nConnection: keep-alive, X-Secret\r\n"
             "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nX-Forwarded-For: 6.6.6.6\r\n"
             "Forwarded: for=6.6.6.6\r\nContent-Length: 3\r\nUser-Agent: t\r\n\r\n"),
      kVisitor, out);
  CHECK(out ==
        "POST /x?y HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 3\r\nUser-Agent: t\r\n"
        "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: http\r\n"
        "X-Forwarded-Host: app.example.com\r\n\r\n");
  out.clear();
  append_forwarded_request(parsed("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
                           kVisitor, out);
  CHECK(out.ends_with("X-Forwarded-Host: app.example.com\r\nConnection: close\r\n\r\n"));
  out.clear();
  append_forwarded_request(parsed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), kVisitor,
                           out);
  CHECK(out.starts_with("GET / HTTP/1.0\r\n"));
  CHECK(out.ends_with("Connection: keep-alive\r\n\r\n"));
  out.clear();
  append_forwarded_request(parsed("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                                  "Connection: Upgrade\r\nSec-WebSocket-Key: k\r\n\r\n"),
                           kVisitor, out);
  CHECK(out.find("Upgrade: websocket\r\n") != std::string::npos);
  CHECK(out.ends_with("Connection: upgrade\r\n\r\n"));
}

TEST_CASE("Connection cannot strip the fields that frame or route a request", "[forward]") {
  std::string out;
  append_forwarded_request(parsed("POST / HTTP/1.1\r\nHost: a\r\nConnection: content-length, host,"
                                  " transfer-encoding\r\nContent-Length: 5\r\n\r\n"),
                           kVisitor, out);
  CHECK(out.find("Content-Length: 5\r\n") != std::string::npos);
  CHECK(out.find("Host: a\r\n") != std::string::npos);
}

TEST_CASE("a forwarded response loses hop-by-hop fields; close and upgrade said", "[forward]") {
  ResponseHead head;
  head.status = 200;
  head.reason = "OK";
  head.fields = {{"Content-Length", "2"},
                 {"Connection", "keep-alive, X-Drop"},
                 {"X-Drop", "1"},
                 {"Keep-Alive", "timeout=5"},
                 {"Set-Cookie", "a=b"}};
  std::string out;
  append_forwarded_response(head, false, out);
  CHECK(out == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=b\r\n\r\n");
  out.clear();
  append_forwarded_response(head, true, out);
  CHECK(out.ends_with("Set-Cookie: a=b\r\nConnection: close\r\n\r\n"));
  ResponseHead upgrade;
  upgrade.status = 101;
  upgrade.reason = "Switching Protocols";
  upgrade.fields = {
      {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", "z"}};
  out.clear();
  append_forwarded_response(upgrade, false, out);
  CHECK(out ==
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Accept: z\r\nConnection: upgrade\r\n\r\n");
}
