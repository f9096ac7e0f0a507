// SPDX-License-Identifier: MIT
// RequestHeadParser: fields, piecewise feeding, pipelining, every refusal with its status and
// sentence, the limits at and past their boundary, smuggling cases, keep-alive and Upgrade.
#include "http/request_head.hpp"

#include <catch2/catch.hpp>
#include <cstddef>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using ringtunnel::http::BodyFraming;
using ringtunnel::http::FeedOutcome;
using ringtunnel::http::HeaderField;
using ringtunnel::http::HeadError;
using ringtunnel::http::HeadStatus;
using ringtunnel::http::HttpVersion;
using ringtunnel::http::KeepAlive;
using ringtunnel::http::kMaxHeaderFields;
using ringtunnel::http::kMaxRequestHead;
using ringtunnel::http::kMaxRequestLine;
using ringtunnel::http::RequestHead;
using ringtunnel::http::RequestHeadParser;
using namespace std::string_literals;

namespace {

std::span<const std::byte> bytes(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

// What a parser made of some input: the status, the bytes it took in all, and the head or
// the error.
struct Parsed {
  HeadStatus status = HeadStatus::need_more;
  std::size_t used = 0;
  std::optional<RequestHead> head;
  std::optional<HeadError> error;
  bool operator==(const Parsed&) const = default;
};

Parsed result_of(const RequestHeadParser& parser, std::size_t used) {
  Parsed parsed{parser.status(), used, std::nullopt, std::nullopt};
  if (parser.status() == HeadStatus::complete) parsed.head = parser.head();
  if (parser.status() == HeadStatus::failed) parsed.error = parser.error();
  return parsed;
}

// Feeds `text` in pieces cut at `cuts` (ascending offsets), stopping once the head is done.
Parsed parse_pieces(std::string_view text, const std::vector<std::size_t>& cuts) {
  RequestHeadParser parser;
  std::size_t used = 0;
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : text.size();
    const FeedOutcome outcome = parser.feed(bytes(text.substr(begin, end - begin)));
    REQUIRE(outcome.status == parser.status());
    used += outcome.used;
    if (outcome.status != HeadStatus::need_more) break;
    REQUIRE(outcome.used == end - begin);
    begin = end;
  }
  return result_of(parser, used);
}

Parsed parse_whole(std::string_view text) {
  return parse_pieces(text, {});
}

Parsed parse_bytewise(std::string_view text) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < text.size(); ++i) cuts.push_back(i);
  return parse_pieces(text, cuts);
}

// One feed, then the same text a byte at a time and (for short texts) cut in two at every
// offset: all must agree.
Parsed parse(std::string_view text) {
  const Parsed whole = parse_whole(text);
  REQUIRE(parse_bytewise(text) == whole);
  if (text.size() <= 1024) {
    for (std::size_t cut = 1; cut < text.size(); ++cut) {
      INFO("cut at " << cut);
      REQUIRE(parse_pieces(text, {cut}) == whole);
    }
  }
  return whole;
}

RequestHead parse_ok(std::string_view text) {
  const Parsed parsed = parse(text);
  INFO(text);
  if (parsed.error) INFO("error: " << parsed.error->status << " " << parsed.error->message);
  REQUIRE(parsed.status == HeadStatus::complete);
  return *parsed.head;
}

HeadError parse_error(std::string_view text) {
  const Parsed parsed = parse(text);
  INFO(text);
  REQUIRE(parsed.status == HeadStatus::failed);
  return *parsed.error;
}

void require_error(std::string_view text, int status, std::string_view message) {
  const HeadError error = parse_error(text);
  CHECK(error.status == status);
  CHECK(error.message == message);
}

constexpr std::string_view kMalformedVersion =
    "the request line does not end with an HTTP version such as HTTP/1.1";

// A complete HTTP/1.1 GET with Host and the given extra header lines.
std::string get_with(std::string_view lines) {
  return "GET / HTTP/1.1\r\nHost: a.example.com\r\n" + std::string(lines) + "\r\n";
}

}  // namespace

TEST_CASE("a request head yields its method, target, version and fields as sent") {
  const std::string text =
      "GET /path?q=1 HTTP/1.1\r\nHost: app.example.com\r\nUser-Agent:  curl/8.0 \r\n"
      "X-Empty:\r\nx-lower: Mixed Case\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n";
  const RequestHead head = parse_ok(text);
  CHECK(head.method == "GET");
  CHECK(head.target == "/path?q=1");
  CHECK(head.version == HttpVersion::http_1_1);
  CHECK(head.fields == std::vector<HeaderField>{{"Host", "app.example.com"},
                                                {"User-Agent", "curl/8.0"},
                                                {"X-Empty", ""},
                                                {"x-lower", "Mixed Case"},
                                                {"X-Dup", "1"},
                                                {"X-Dup", "2"}});
  CHECK(head.host() == "app.example.com");
  CHECK(head.field("user-agent") == "curl/8.0");
  CHECK(head.field("X-DUP") == "1");
  CHECK(head.field("missing") == std::nullopt);
  CHECK(head.size == text.size());
  CHECK(head.framing == BodyFraming::none);
  CHECK(head.keep_alive == KeepAlive::yes);
  CHECK(head.upgrade == std::nullopt);
}

TEST_CASE("methods and target forms http_parser knows come through") {
  CHECK(parse_ok("M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n").method == "M-SEARCH");
  CHECK(parse_ok("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").target == "*");
  const RequestHead connect = parse_ok("CONNECT a.b:443 HTTP/1.1\r\nHost: a.b:443\r\n\r\n");
  CHECK(connect.method == "CONNECT");
  CHECK(connect.target == "a.b:443");
  CHECK(connect.framing == BodyFraming::none);
  const RequestHead absolute = parse_ok(
      "GET http://user@A.example.com:8080/x?y HTTP/1.1\r\nHost: a.example.COM:8080\r\n\r\n");
  CHECK(absolute.target == "http://user@A.example.com:8080/x?y");
  // Bytes above 0x7f in the target are let through (http_parser's non-strict build does).
  CHECK(parse_ok("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n").target == "/caf\xc3\xa9");
}

TEST_CASE("line endings: bare LF is accepted, empty lines before the request line skipped") {
  const RequestHead bare = parse_ok("GET / HTTP/1.1\nHost: h\nX: 1\n\n");
  CHECK(bare.fields == std::vector<HeaderField>{{"Host", "h"}, {"X", "1"}});
  CHECK(bare.size == 29);
  const std::string leading = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK(parse_ok(leading).size == leading.size());
}

TEST_CASE("the parser never reads past the head: what follows is left to the caller") {
  for (const std::string& body :
       {"BODY"s, "\r\n\r\n"s, "\n"s, "GET / HTTP/1.1\r\n"s, "\x16\x03"s}) {
    const std::string head = "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n";
    const std::string text = head + body;
    RequestHeadParser parser;
    const FeedOutcome outcome = parser.feed(bytes(text));
    REQUIRE(outcome == FeedOutcome{HeadStatus::complete, head.size()});
    CHECK(std::string_view(text).substr(outcome.used) == body);
    CHECK(parser.head().content_length == 4);
    // Byte at a time: the feed that holds the head's last LF takes exactly that byte.
    RequestHeadParser bytewise;
    std::size_t used = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const FeedOutcome step = bytewise.feed(bytes(std::string_view(text).substr(i, 1)));
      used += step.used;
      if (step.status != HeadStatus::need_more) break;
    }
    CHECK(bytewise.status() == HeadStatus::complete);
    CHECK(used == head.size());
    CHECK(bytewise.head() == parser.head());
  }
}

TEST_CASE("pipelined requests: the consumed count points at the next head") {
  const std::string first = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
  const std::string third = "GET /three HTTP/1.0\r\n\r\n";
  const std::string all = first + second + "abc" + third;
  RequestHeadParser parser;
  std::span<const std::byte> rest = bytes(all);

  FeedOutcome outcome = parser.feed(rest);
  REQUIRE(outcome == FeedOutcome{HeadStatus::complete, first.size()});
  CHECK(parser.head().target == "/one");
  rest = rest.subspan(outcome.used);
  // Done until reset(): nothing more is taken.
  CHECK(parser.feed(rest) == FeedOutcome{HeadStatus::complete, 0});
  parser.reset();
  CHECK(parser.status() == HeadStatus::need_more);

  outcome = parser.feed(rest);
  REQUIRE(outcome == FeedOutcome{HeadStatus::complete, second.size()});
  CHECK(parser.head().target == "/two");
  CHECK(parser.head().size == second.size());
  rest = rest.subspan(outcome.used + parser.head().content_length);  // the caller skips the body
  parser.reset();

  outcome = parser.feed(rest);
  REQUIRE(outcome == FeedOutcome{HeadStatus::complete, third.size()});
  CHECK(parser.head().target == "/three");
  CHECK(parser.head().fields.empty());
  CHECK(outcome.used == rest.size());
}

TEST_CASE("feeding nothing, feeding after a failure, moving a parser mid-head") {
  RequestHeadParser parser;
  CHECK(parser.feed({}) == FeedOutcome{HeadStatus::need_more, 0});
  CHECK(parser.feed(bytes("GET / HT")) == FeedOutcome{HeadStatus::need_more, 8});
  RequestHeadParser moved = std::move(parser);
  CHECK(moved.feed(bytes("TP/1.1\r\nHost: h\r\n\r\n")).status == HeadStatus::complete);
  CHECK(moved.head().size == 27);

  RequestHeadParser failing;
  CHECK(failing.feed(bytes("FOO / HTTP/1.1\r\n")) == FeedOutcome{HeadStatus::failed, 0});
  CHECK(failing.feed(bytes("GET / HTTP/1.1\r\n")) == FeedOutcome{HeadStatus::failed, 0});
  CHECK(failing.error().status == 501);
  failing.reset();
  CHECK(failing.feed(bytes("GET / HTTP/1.0\r\n\r\n")).status == HeadStatus::complete);
}

TEST_CASE("a failure reports how many bytes came before the fault") {
  CHECK(parse_whole("GET / HTTP/1.1\r\nHost : h\r\n\r\n").used == 20);
  CHECK(parse_whole("GET /\t HTTP/1.1\r\n").used == 5);
  // Faults found once the head is complete: the whole head.
  const std::string no_host = "GET / HTTP/1.1\r\n\r\nrest";
  CHECK(parse_whole(no_host).used == no_host.size() - 4);
}

TEST_CASE("HTTP versions: 1.0 and 1.1 only") {
  CHECK(parse_ok("GET / HTTP/1.0\r\n\r\n").version == HttpVersion::http_1_0);
  CHECK(parse_ok("GET / HTTP/1.0\r\n\r\n").host() == std::nullopt);
  require_error("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505,
                "the request is HTTP/2.0, but only HTTP/1.0 and HTTP/1.1 are served");
  require_error("GET / HTTP/0.9\r\n\r\n", 505,
                "the request is HTTP/0.9, but only HTTP/1.0 and HTTP/1.1 are served");
  require_error("GET / HTTP/1.2\r\n\r\n", 505,
                "the request is HTTP/1.2, but only HTTP/1.0 and HTTP/1.1 are served");
  for (const char* line :
       {"GET / HXXP/1.1", "GET / http/1.1", "GET /", "GET / HTTP/1.10", "GET / HTTP/11.1",
        "GET / HTTP/1.1 ", "GET / HTTP/1", "GET / ICE/1.0", "SOURCE / ICE/1.0"}) {
    INFO(line);
    require_error(line + "\r\nHost: h\r\n\r\n"s, 400, kMalformedVersion);
  }
}

TEST_CASE("methods: unknown ones get 501, what is no method at all 400") {
  for (const char* text : {"FOO / HTTP/1.1\r\n", "get / HTTP/1.1\r\n", "GETX / HTTP/1.1\r\n",
                           "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}) {
    require_error(text, 501, "the request method is not one this server knows");
  }
  for (const std::string& text :
       {"\x16\x03\x01\x02\x00"s, " GET / HTTP/1.1\r\n"s, "GET\t/ HTTP/1.1\r\n"s, "\x00GET"s}) {
    require_error(text, 400, "the request line does not start with a method and a space");
  }
}

TEST_CASE("the request line: control bytes and malformed targets are refused") {
  require_error("GET /a\tb HTTP/1.1\r\n", 400, "the request line contains the control byte 0x09");
  // http_parser refuses the other control bytes itself.
  require_error("GET /a\x7f HTTP/1.1\r\n", 400, "the request target is malformed");
  require_error("GET /a\x01 HTTP/1.1\r\n", 400, "the request target is malformed");
  require_error("GET / HTTP/1.1\x01\r\n", 400, kMalformedVersion);
  require_error("GET /a\x0c HTTP/1.1\r\n", 400, "the request line contains the control byte 0x0c");
  require_error("GET /a b HTTP/1.1\r\n", 400, kMalformedVersion);
  require_error("GET http:/x HTTP/1.1\r\n", 400, "the request target is malformed");
  require_error("GET x HTTP/1.1\r\n", 400, "the request target is malformed");
}

TEST_CASE("header names: tokens directly followed by the colon") {
  require_error("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400,
                "the header field name 'Host' is followed by whitespace, which is not allowed "
                "before the colon");
  require_error("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding\t: chunked\r\n\r\n", 400,
                "the header field name 'Transfer-Encoding' is followed by whitespace, which is "
                "not allowed before the colon");
  require_error("GET / HTTP/1.1\r\nHo(st: h\r\n\r\n", 400,
                "the header field name 'Ho' is followed by '(' (0x28), which is not allowed in a "
                "name");
  require_error("GET / HTTP/1.1\r\nX-A:\r\n(X: h\r\n\r\n", 400,
                "a header field name starts with the byte '(' (0x28), which is not allowed in a "
                "name");
  require_error("GET / HTTP/1.1\r\nX\x01: h\r\n\r\n", 400,
                "the header field name 'X' is followed by 0x01, which is not allowed in a name");
  require_error("GET / HTTP/1.1\r\n: h\r\n\r\n", 400,
                "a header line starts with ':' (its field name is empty)");
  require_error("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400,
                "the header line 'NoColon' has no colon");
  require_error("GET / HTTP/1.1\r\nHost: h\r\nNoColon\n\n", 400,
                "the header line 'NoColon' has no colon");
}

TEST_CASE("obsolete line folding and whitespace-led header lines are refused") {
  const std::string folded = "a header line starts with whitespace (obsolete line folding)";
  require_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400, folded);
  require_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400, folded);
  require_error("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400, folded);
  // A folded Transfer-Encoding would otherwise reach http_parser as "chunked".
  require_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", 400,
                folded);
}

TEST_CASE("header values: control bytes are refused, whitespace around them dropped") {
  require_error(
      "GET / HTTP/1.1\r\nHost: h\r\nX-Bad: a\x01"
      "b\r\n\r\n",
      400, "the value of the header field 'X-Bad' contains the control byte 0x01");
  require_error("GET / HTTP/1.1\r\nHost: h\r\nX-Bad: a\x7f\r\n\r\n", 400,
                "the value of the header field 'X-Bad' contains the control byte 0x7f");
  const RequestHead head = parse_ok("GET / HTTP/1.1\r\nHost:\t h \t\r\nX: a \t b\r\n\r\n");
  CHECK(head.host() == "h");
  CHECK(head.field("x") == "a \t b");
}

TEST_CASE("a CR must be followed by LF") {
  const std::string bare_cr = "the request head has a CR that is not followed by LF";
  require_error("GET / HTTP/1.1\rHost: h\r\n\r\n", 400, bare_cr);
  require_error("GET / HTTP/1.1\r\nHost: h\rX: 1\r\n\r\n", 400, bare_cr);
  require_error("GET / HTTP/1.1\r\nHost: h\r\nX:\rY\r\n\r\n", 400, bare_cr);
  require_error("GET / HTTP/1.1\r\nHost: h\r\n\rX", 400, bare_cr);  // http_parser alone ends here
  require_error("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", 400, bare_cr);
  require_error("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, bare_cr);
}

TEST_CASE("Host: one on HTTP/1.1, at most one on HTTP/1.0") {
  require_error("GET / HTTP/1.1\r\n\r\n", 400, "the HTTP/1.1 request has no Host header");
  require_error("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400,
                "the request has more than one Host header");
  require_error("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400,
                "the request has more than one Host header");
  CHECK(parse_ok("GET / HTTP/1.1\r\nHost:\r\n\r\n").host() == "");
  CHECK(parse_ok("GET / HTTP/1.0\r\nHOST: x\r\n\r\n").host() == "x");
}

TEST_CASE("an absolute-form target must agree with Host") {
  CHECK(parse_ok("GET http://a.example.com/x HTTP/1.1\r\nHost: A.Example.com\r\n\r\n").host() ==
        "A.Example.com");
  require_error("GET http://a.example.com/x HTTP/1.1\r\nHost: b.example.com\r\n\r\n", 400,
                "the request target names the host 'a.example.com' but the Host header says "
                "'b.example.com'");
  require_error("GET http://b.example.com@a.example.com HTTP/1.1\r\nHost: b.example.com\r\n\r\n",
                400,
                "the request target names the host 'a.example.com' but the Host header says "
                "'b.example.com'");
  require_error("GET https://a.example.com:443/ HTTP/1.1\r\nHost: a.example.com\r\n\r\n", 400,
                "the request target names the host 'a.example.com:443' but the Host header says "
                "'a.example.com'");
  // HTTP/1.0 may leave Host out; then there is nothing to disagree with.
  CHECK(parse_ok("GET http://a.example.com/ HTTP/1.0\r\n\r\n").host() == std::nullopt);
}

TEST_CASE("body framing: none, Content-Length, chunked") {
  CHECK(parse_ok(get_with("")).framing == BodyFraming::none);
  const RequestHead length = parse_ok(get_with("Content-Length: 1234567890123\r\n"));
  CHECK(length.framing == BodyFraming::content_length);
  CHECK(length.content_length == 1234567890123u);
  const RequestHead zero = parse_ok(get_with("Content-Length: 0\r\n"));
  CHECK(zero.framing == BodyFraming::content_length);
  CHECK(zero.content_length == 0);
  CHECK(parse_ok(get_with("content-length:  007 \r\n")).content_length == 7);
  CHECK(parse_ok(get_with("Transfer-Encoding: chunked\r\n")).framing == BodyFraming::chunked);
  CHECK(parse_ok(get_with("Transfer-Encoding: CHUNKED\r\n")).framing == BodyFraming::chunked);
  CHECK(parse_ok(get_with("Transfer-Encoding: gzip, chunked\r\n")).framing == BodyFraming::chunked);
  CHECK(parse_ok(get_with("Transfer-Encoding: ,gzip ,, x-gzip,deflate, chunked,\r\n")).framing ==
        BodyFraming::chunked);
  CHECK(parse_ok(get_with("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n")).framing ==
        BodyFraming::chunked);
  require_error(get_with("Content-Length: 5x\r\n"), 400,
                "the request's Content-Length is not a decimal number of bytes");
  require_error(get_with("Content-Length: 5, 5\r\n"), 400,
                "the request's Content-Length is not a decimal number of bytes");
  require_error(get_with("Content-Length:\r\n"), 400,
                "the request's Content-Length is not a decimal number of bytes");
  require_error(get_with("Content-Length: -1\r\n"), 400,
                "the request's Content-Length is not a decimal number of bytes");
  require_error(get_with("Content-Length: 99999999999999999999999\r\n"), 400,
                "the request's Content-Length is not a decimal number of bytes");
}

TEST_CASE("smuggling vectors are refused") {
  const std::string both = "the request has both Content-Length and Transfer-Encoding";
  require_error(get_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400, both);
  require_error(get_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400, both);
  require_error(get_with("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n"), 400, both);
  require_error(get_with("Content-Length: 0\r\nTransfer-Encoding: identity\r\n"), 400, both);

  const std::string twice = "the request has more than one Content-Length header";
  require_error(get_with("Content-Length: 5\r\nContent-Length: 6\r\n"), 400, twice);
  require_error(get_with("Content-Length: 5\r\nContent-Length: 5\r\n"), 400, twice);
  require_error(get_with("Content-Length: 5\r\nX: 1\r\ncontent-length: 50\r\n"), 400, twice);

  require_error(get_with("Transfer-Encoding: chunked, gzip\r\n"), 400,
                "the request's Transfer-Encoding 'chunked, gzip' does not end with chunked, so "
                "its body length is unknown");
  require_error(get_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), 400,
                "the request's Transfer-Encoding 'chunked, gzip' does not end with chunked, so "
                "its body length is unknown");
  require_error(get_with("Transfer-Encoding: gzip\r\n"), 400,
                "the request's Transfer-Encoding 'gzip' does not end with chunked, so its body "
                "length is unknown");
  require_error(get_with("Transfer-Encoding: chunked;x=1\r\n"), 400,
                "the request's Transfer-Encoding 'chunked;x=1' does not end with chunked, so its "
                "body length is unknown");
  require_error(get_with("Transfer-Encoding: chunked, chunked\r\n"), 400,
                "the request's Transfer-Encoding 'chunked, chunked' applies chunked more than "
                "once");
  require_error(get_with("Transfer-Encoding: , \r\n"), 400,
                "the request has an empty Transfer-Encoding header");
  require_error(get_with("Transfer-Encoding:\r\n"), 400,
                "the request has an empty Transfer-Encoding header");
  require_error(get_with("Transfer-Encoding: br, chunked\r\n"), 501,
                "the request's Transfer-Encoding uses the coding 'br', which this server does not "
                "support");
  require_error(get_with("Transfer-Encoding: identity, chunked\r\n"), 501,
                "the request's Transfer-Encoding uses the coding 'identity', which this server "
                "does not support");
  require_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                "the HTTP/1.0 request has a Transfer-Encoding header, which HTTP/1.0 does not "
                "have");
}

TEST_CASE("keep-alive follows the HTTP/1.0 and HTTP/1.1 rules") {
  struct Row {
    std::string version;
    std::string connection;  // header lines
    KeepAlive expected;
  };
  const std::vector<Row> rows = {
      {"1.1", "", KeepAlive::yes},
      {"1.1", "Connection: close\r\n", KeepAlive::no},
      {"1.1", "Connection: Close\r\n", KeepAlive::no},
      {"1.1", "Connection: keep-alive\r\n", KeepAlive::yes},
      {"1.1", "Connection: foo, close\r\n", KeepAlive::no},
      {"1.1", "Connection: keep-alive\r\nConnection: close\r\n", KeepAlive::no},
      {"1.1", "Connection: closed\r\n", KeepAlive::yes},
      {"1.1", "Proxy-Connection: close\r\n", KeepAlive::yes},
      {"1.0", "", KeepAlive::no},
      {"1.0", "Connection: keep-alive\r\n", KeepAlive::yes},
      {"1.0", "Connection: Keep-Alive\r\n", KeepAlive::yes},
      {"1.0", "Connection: te,keep-alive \r\n", KeepAlive::yes},
      {"1.0", "Connection: keep-alive, close\r\n", KeepAlive::no},
      {"1.0", "Keep-Alive: timeout=5\r\n", KeepAlive::no},
  };
  for (const Row& row : rows) {
    INFO(row.version << " " << row.connection);
    const RequestHead head =
        parse_ok("GET / HTTP/" + row.version + "\r\nHost: h\r\n" + row.connection + "\r\n");
    CHECK(head.keep_alive == row.expected);
  }
}

TEST_CASE("Upgrade counts on HTTP/1.1 when Connection names it") {
  const RequestHead websocket = parse_ok(
      "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  CHECK(websocket.upgrade == "websocket");
  CHECK(websocket.framing == BodyFraming::none);
  CHECK(parse_ok(
            get_with("Connection: keep-alive, upgrade\r\nUpgrade: h2c\r\nUpgrade: websocket\r\n"))
            .upgrade == "h2c, websocket");
  CHECK(parse_ok(get_with("Upgrade: websocket\r\n")).upgrade == std::nullopt);
  CHECK(parse_ok(get_with("Connection: upgrade\r\n")).upgrade == std::nullopt);
  CHECK(parse_ok(get_with("Connection: upgrade\r\nUpgrade: \r\n")).upgrade == std::nullopt);
  CHECK(parse_ok("GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n").upgrade ==
        std::nullopt);
}

// ---- limits ----------------------------------------------------------------------------

namespace {

// A request whose head is exactly `size` bytes (size >= 64), padded in one header value.
std::string head_of_size(std::size_t size) {
  const std::string start = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  return start + std::string(size - start.size() - end.size(), 'p') + end;
}

// A request line of exactly `size` bytes (without its CRLF).
std::string request_line_of_size(std::size_t size) {
  const std::string start = "GET /";
  const std::string end = " HTTP/1.1";
  return start + std::string(size - start.size() - end.size(), 'a') + end;
}

std::string with_fields(std::size_t count) {
  std::string text = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (std::size_t i = 1; i < count; ++i) text += "X-" + std::to_string(i) + ": v\r\n";
  return text + "\r\n";
}

}  // namespace

TEST_CASE("the head may be 16384 bytes, not one more") {
  const std::string at_limit = head_of_size(kMaxRequestHead);
  REQUIRE(at_limit.size() == 16384);
  CHECK(parse_ok(at_limit + "body").size == 16384);
  CHECK(parse_pieces(at_limit, {8000, 16383}).status == HeadStatus::complete);

  const std::string over = head_of_size(kMaxRequestHead + 1);
  const Parsed parsed = parse(over);
  REQUIRE(parsed.status == HeadStatus::failed);
  CHECK(*parsed.error == HeadError{431, "the request head is longer than 16384 bytes"});
  CHECK(parsed.used == 16384);
  // Empty lines before the request line count too.
  CHECK(parse_error("\r\n" + head_of_size(kMaxRequestHead - 1)).status == 431);
  CHECK(parse_ok("\r\n" + head_of_size(kMaxRequestHead - 2)).size == 16384);
  // The 16384 bytes without their end: waiting is right, the next byte is one too many.
  RequestHeadParser parser;
  const std::string open = at_limit.substr(0, 16382) + "xx";
  CHECK(parser.feed(bytes(open)) == FeedOutcome{HeadStatus::need_more, 16384});
  CHECK(parser.feed(bytes("\r")) == FeedOutcome{HeadStatus::failed, 0});
  CHECK(parser.error().status == 431);
}

TEST_CASE("the request line may be 8192 bytes, not one more") {
  const std::string at_limit = request_line_of_size(kMaxRequestLine);
  REQUIRE(at_limit.size() == 8192);
  CHECK(parse_ok(at_limit + "\r\nHost: h\r\n\r\n").target.size() == 8192 - 4 - 9);
  CHECK(parse_ok(at_limit + "\nHost: h\n\n").version == HttpVersion::http_1_1);
  const Parsed over = parse(request_line_of_size(kMaxRequestLine + 1) + "\r\nHost: h\r\n\r\n");
  REQUIRE(over.status == HeadStatus::failed);
  CHECK(*over.error == HeadError{414, "the request line is longer than 8192 bytes"});
  CHECK(over.used == 8192);
  // Empty lines before it are not part of it.
  CHECK(parse_ok("\r\n\r\n" + at_limit + "\r\nHost: h\r\n\r\n").size == 8192 + 4 + 2 + 9 + 2);
}

TEST_CASE("a head may have 100 header fields, not 101") {
  const RequestHead at_limit = parse_ok(with_fields(kMaxHeaderFields));
  CHECK(at_limit.fields.size() == 100);
  CHECK(at_limit.fields.back() == HeaderField{"X-99", "v"});
  require_error(with_fields(kMaxHeaderFields + 1), 431,
                "the request has more than 100 header fields");
}

TEST_CASE("messages quote request text safely") {
  const std::string long_host = "\xe9" + std::string(199, 'h');
  const HeadError error = parse_error("GET http://a/ HTTP/1.1\r\nHost: " + long_host + "\r\n\r\n");
  CHECK(error.message == "the request target names the host 'a' but the Host header says '\\xe9" +
                             std::string(75, 'h') + "...' (200 bytes)");
}

TEST_CASE("mutated heads: any cut into pieces gives the same result as one feed") {
  const std::vector<std::string> seeds = {
      "GET /a?b HTTP/1.1\r\nHost: a.example.com\r\nConnection: keep-alive, Upgrade\r\n"
      "Upgrade: websocket\r\n\r\nBODY",
      "POST http://h/x HTTP/1.0\r\nHost: h\r\nContent-Length: 3\r\nX:\r\n\r\nabc",
      "PUT / HTTP/1.1\nHost: h\nTransfer-Encoding: gzip, chunked\n\n0\r\n\r\n",
  };
  const std::string alphabet = std::string("\r\n\t :,;/.-aZ0\x01\x7f\x80", 16);
  std::mt19937 random(20240611);
  std::size_t complete = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text = seeds[random() % seeds.size()];
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = random() % text.size();
      const char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          text.erase(at, 1);
          break;
      }
    }
    INFO(text);
    const Parsed whole = parse_whole(text);
    REQUIRE(parse_bytewise(text) == whole);
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < text.size(); ++i) {
      if (random() % 7 == 0) cuts.push_back(i);
    }
    REQUIRE(parse_pieces(text, cuts) == whole);
    if (whole.status == HeadStatus::complete) ++complete;
    if (whole.error) {
      CHECK(whole.error->message.find("ambiguous") == std::string::npos);
      CHECK(whole.error->message.find("http_parser:") == std::string::npos);
    }
  }
  CHECK(complete > 0);
}
