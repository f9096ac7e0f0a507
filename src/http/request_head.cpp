// SPDX-License-Identifier: MIT
// RequestHeadParser: http_parser driven up to the end of the head, its pieces collected, faults
// turned into a status and a sentence.
#include "http/request_head.hpp"

#include <http_parser.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include "http/head_rules.hpp"
#include "http/head_scanner.hpp"
#include "runtime/assert.hpp"

namespace ringtunnel::http {
namespace {

// Where one header line's name and value sit in Impl::text.
struct FieldSpan {
  std::size_t name_begin = 0;
  std::size_t name_end = 0;
  std::size_t value_begin = 0;
  std::size_t value_end = 0;
};

// Which kind of piece http_parser handed over last: a new kind starts a new string.
enum class Piece : std::uint8_t { none, url, name, value };

constexpr std::string_view kHeadTooLarge = "the request head is longer than 16384 bytes";
constexpr std::string_view kBareCr = "the request head has a CR that is not followed by LF";
constexpr std::string_view kMalformedVersion =
    "the request line does not end with an HTTP version such as HTTP/1.1";

static_assert(kMaxRequestHead == 16384 && kMaxRequestLine == 8192 && kMaxHeaderFields == 100,
              "the messages below spell the limits out");

HeadError bad_request(std::string_view message) {
  return HeadError{400, std::string(message)};
}

// "'(' (0x28)" for a printable byte, "0x01" for the others.
std::string describe_byte(std::uint8_t byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex = "0x";
  hex += kHex[byte >> 4];
  hex += kHex[byte & 0xf];
  if (byte <= 0x20 || byte >= 0x7f) return hex;
  return "'" + std::string(1, static_cast<char>(byte)) + "' (" + hex + ")";
}

}  // namespace

struct RequestHeadParser::Impl {
  http_parser parser{};
  HeadScanner scanner;
  HeadStatus status = HeadStatus::need_more;
  std::size_t head_bytes = 0;  // taken by earlier feeds of this head
  // Every piece http_parser hands over, appended. feed() reserves room for a whole input
  // before running http_parser on it, so the callbacks never allocate: no exception may cross
  // http_parser's C frames.
  std::string text;
  std::size_t url_begin = 0;
  std::size_t url_end = 0;
  std::vector<FieldSpan> spans;
  Piece last = Piece::none;
  bool headers_complete = false;
  RequestHead head;
  HeadError error;

  Impl() { start(); }
  // `parser.data` points here: the Impl never moves (the parser holds it by unique_ptr).
  void start() noexcept {
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
  }

  static Impl& of(http_parser* parser) noexcept { return *static_cast<Impl*>(parser->data); }

  static int on_url(http_parser* parser, const char* at, std::size_t length) noexcept {
    Impl& self = of(parser);
    if (self.last != Piece::url) self.url_begin = self.text.size();
    self.last = Piece::url;
    self.text.append(at, length);
    self.url_end = self.text.size();
    return 0;
  }

  static int on_header_field(http_parser* parser, const char* at, std::size_t length) noexcept {
    Impl& self = of(parser);
    if (self.last != Piece::name) {
      self.spans.push_back(FieldSpan{});  // within the capacity feed() reserved
      self.spans.back().name_begin = self.text.size();
    }
    self.last = Piece::name;
    self.text.append(at, length);
    FieldSpan& span = self.spans.back();
    span.name_end = span.value_begin = span.value_end = self.text.size();
    return 0;
  }

  static int on_header_value(http_parser* parser, const char* at, std::size_t length) noexcept {
    Impl& self = of(parser);
    RT_DCHECK(!self.spans.empty());
    if (self.last != Piece::value) self.spans.back().value_begin = self.text.size();
    self.last = Piece::value;
    self.text.append(at, length);
    self.spans.back().value_end = self.text.size();
    return 0;
  }

  // Pausing makes http_parser_execute return at once, on the head's last LF, without looking
  // at the body (returning 1 instead would only tell it "no body" and it would go on parsing
  // whatever follows as the next request).
  static int on_headers_complete(http_parser* parser) noexcept {
    of(parser).headers_complete = true;
    http_parser_pause(parser, 1);
    return 0;
  }

  static const http_parser_settings& settings() noexcept {
    static const http_parser_settings table = [] {
      http_parser_settings built;
      http_parser_settings_init(&built);
      built.on_url = &on_url;
      built.on_header_field = &on_header_field;
      built.on_header_value = &on_header_value;
      built.on_headers_complete = &on_headers_complete;
      return built;
    }();
    return table;
  }

  std::string_view slice(std::size_t begin, std::size_t end) const noexcept {
    return std::string_view(text).substr(begin, end - begin);
  }
  std::string_view current_name() const noexcept {
    return spans.empty() ? std::string_view()
                         : slice(spans.back().name_begin, spans.back().name_end);
  }

  FeedOutcome fail(HeadError why, std::size_t used) {
    status = HeadStatus::failed;
    error = std::move(why);
    return FeedOutcome{status, used};
  }

  FeedOutcome finish(std::size_t used);
  HeadError scanner_error(const HeadScanner::Scan& scan) const;
  HeadError parser_error(http_errno code, std::uint8_t byte) const;
};

FeedOutcome RequestHeadParser::Impl::finish(std::size_t used) {
  head.method = http_method_str(static_cast<http_method>(parser.method));
  head.target = slice(url_begin, url_end);
  // The scanner has let only "HTTP/1.0" and "HTTP/1.1" through.
  RT_DCHECK(parser.http_major == 1 && parser.http_minor <= 1);
  head.version = parser.http_minor == 0 ? HttpVersion::http_1_0 : HttpVersion::http_1_1;
  head.fields.clear();
  head.fields.reserve(spans.size());
  for (const FieldSpan& span : spans) {
    head.fields.push_back(
        HeaderField{std::string(slice(span.name_begin, span.name_end)),
                    std::string(trim_whitespace(slice(span.value_begin, span.value_end)))});
  }
  head.size = head_bytes + used;
  if (auto why = apply_head_rules(head)) return fail(std::move(*why), used);
  status = HeadStatus::complete;
  return FeedOutcome{status, used};
}

HeadError RequestHeadParser::Impl::scanner_error(const HeadScanner::Scan& scan) const {
  using Fault = HeadScanner::Fault;
  const bool in_name = scanner.name_bytes() > 0;  // then its bytes are current_name()
  switch (scan.fault) {
    case Fault::none:
      break;
    case Fault::head_too_large:
      return HeadError{431, std::string(kHeadTooLarge)};
    case Fault::request_line_too_long:
      return HeadError{414, "the request line is longer than 8192 bytes"};
    case Fault::too_many_fields:
      return HeadError{431, "the request has more than 100 header fields"};
    case Fault::bare_cr:
      return bad_request(kBareCr);
    case Fault::control_in_request_line:
      return bad_request("the request line contains the control byte " + describe_byte(scan.byte));
    case Fault::malformed_version:
      return bad_request(kMalformedVersion);
    case Fault::unsupported_version: {
      const auto version = scanner.version();
      return HeadError{505, "the request is " + std::string(version.data(), version.size()) +
                                ", but only HTTP/1.0 and HTTP/1.1 are served"};
    }
    case Fault::folded_line:
      return bad_request("a header line starts with whitespace (obsolete line folding)");
    case Fault::space_in_field_name:
      return bad_request("the header field name " + quote(current_name()) +
                         " is followed by whitespace, which is not allowed before the colon");
    case Fault::bad_field_name_byte:
      if (!in_name) {
        return bad_request("a header field name starts with the byte " + describe_byte(scan.byte) +
                           ", which is not allowed in a name");
      }
      return bad_request("the header field name " + quote(current_name()) + " is followed by " +
                         describe_byte(scan.byte) + ", which is not allowed in a name");
    case Fault::empty_field_name:
      return bad_request("a header line starts with ':' (its field name is empty)");
    case Fault::field_line_without_colon:
      return bad_request("the header line " + quote(current_name()) + " has no colon");
  }
  return bad_request("the request head is malformed");
}

HeadError RequestHeadParser::Impl::parser_error(http_errno code, std::uint8_t byte) const {
  switch (code) {
    case HPE_INVALID_METHOD:
      // http_parser stops at the first byte that no method it knows has there: a token byte
      // means a method it does not know (RFC 9110 §9.1: 501), anything else no method at all.
      if (is_token_byte(byte))
        return HeadError{501, "the request method is not one this server knows"};
      return bad_request("the request line does not start with a method and a space");
    case HPE_INVALID_URL:
      return bad_request("the request target is malformed");
    case HPE_INVALID_CONSTANT:
    case HPE_INVALID_VERSION:
      return bad_request(kMalformedVersion);
    case HPE_LF_EXPECTED:
      return bad_request(kBareCr);
    case HPE_INVALID_HEADER_TOKEN:
      // The scanner has already checked names, so this is a value.
      if (byte < 0x20 || byte == 0x7f) {
        return bad_request("the value of the header field " + quote(current_name()) +
                           " contains the control byte " + describe_byte(byte));
      }
      return bad_request("the header field " + quote(current_name()) + " is malformed");
    case HPE_INVALID_CONTENT_LENGTH:
      return bad_request("the request's Content-Length is not a decimal number of bytes");
    case HPE_UNEXPECTED_CONTENT_LENGTH: {
      // http_parser says this for a second Content-Length (as soon as its value starts) and
      // for Content-Length with Transfer-Encoding (at the end of the head).
      const auto lengths = std::count_if(spans.begin(), spans.end(), [&](const FieldSpan& s) {
        return equals_ignoring_case(slice(s.name_begin, s.name_end), "content-length");
      });
      if (lengths > 1) return bad_request("the request has more than one Content-Length header");
      return bad_request("the request has both Content-Length and Transfer-Encoding");
    }
    case HPE_HEADER_OVERFLOW:
      return HeadError{431, std::string(kHeadTooLarge)};
    default:
      break;
  }
  return bad_request(std::string("the request head is malformed (http_parser: ") +
                     http_errno_description(code) + ")");
}

RequestHeadParser::RequestHeadParser() : impl_(std::make_unique<Impl>()) {}
RequestHeadParser::~RequestHeadParser() = default;
RequestHeadParser::RequestHeadParser(RequestHeadParser&&) noexcept = default;
RequestHeadParser& RequestHeadParser::operator=(RequestHeadParser&&) noexcept = default;

FeedOutcome RequestHeadParser::feed(std::span<const std::byte> input) {
  Impl& self = *impl_;
  if (self.status != HeadStatus::need_more) return FeedOutcome{self.status, 0};
  // The scanner goes first and says how far http_parser may read: to the end of the head, or
  // to the byte that breaks a rule (http_parser, being non-strict, could accept it).
  const HeadScanner::Scan scan = self.scanner.scan(input);
  // Except a control byte in the request line: http_parser refuses most of them itself (a TLS
  // handshake as a bad method, say), which says more than the scanner could.
  const std::size_t until =
      scan.fault == HeadScanner::Fault::control_in_request_line ? scan.stop + 1 : scan.stop;
  self.text.reserve(self.text.size() + until);
  self.spans.reserve(kMaxHeaderFields);  // the scanner lets no more through
  std::size_t parsed = 0;
  if (until > 0) {  // never 0 bytes: http_parser takes that for the end of the stream
    parsed = http_parser_execute(&self.parser, &Impl::settings(),
                                 reinterpret_cast<const char*>(input.data()), until);
  }
  const auto code = static_cast<http_errno>(self.parser.http_errno);
  if (code != HPE_OK && code != HPE_PAUSED) {
    const auto byte = parsed < until ? std::to_integer<std::uint8_t>(input[parsed]) : 0;
    return self.fail(self.parser_error(code, byte), parsed);
  }
  if (self.headers_complete) {
    // Paused on the head's last LF, which http_parser has not counted as parsed.
    if (scan.head_ended && parsed + 1 == scan.stop) return self.finish(scan.stop);
  } else if (scan.fault != HeadScanner::Fault::none) {
    return self.fail(self.scanner_error(scan), scan.stop);
  } else if (!scan.head_ended) {
    self.head_bytes += input.size();
    return FeedOutcome{HeadStatus::need_more, input.size()};
  }
  // The two disagree on where the head ends; no known input gets here.
  return self.fail(bad_request("the request head is malformed (its end is ambiguous)"), parsed);
}

void RequestHeadParser::reset() noexcept {
  Impl& self = *impl_;
  self.start();
  self.scanner.reset();
  self.status = HeadStatus::need_more;
  self.head_bytes = 0;
  self.text.clear();
  self.url_begin = self.url_end = 0;
  self.spans.clear();
  self.last = Piece::none;
  self.headers_complete = false;
  self.head = RequestHead{};
  self.error = HeadError{};
}

HeadStatus RequestHeadParser::status() const noexcept {
  return impl_->status;
}

const RequestHead& RequestHeadParser::head() const noexcept {
  RT_ASSERT(impl_->status == HeadStatus::complete);
  return impl_->head;
}

const HeadError& RequestHeadParser::error() const noexcept {
  RT_ASSERT(impl_->status == HeadStatus::failed);
  return impl_->error;
}

}  // namespace ringtunnel::http
