// SPDX-License-Identifier: MIT
// ResponseParser: http_parser in HTTP_RESPONSE mode, paused at the end of each head and of each
// message.
#include "http/response_head.hpp"

#include <http_parser.h>

#include "http/head_rules.hpp"

namespace ringtunnel::http {

std::optional<std::string_view> ResponseHead::field(std::string_view name) const noexcept {
  for (const HeaderField& f : fields) {
    if (equals_ignoring_case(f.name, name)) return f.value;
  }
  return std::nullopt;
}

struct ResponseParser::Impl {
  http_parser parser{};
  http_parser_settings settings{};
  ResponseHead head;
  HeadError error;
  bool head_request = false;
  bool in_head = true;        // reading a head (else a body)
  bool head_done = false;     // set by on_headers_complete in this feed
  bool message_done = false;  // set by on_message_complete in this feed
  bool last_was_value = false;
  bool overflow = false;
  std::size_t head_bytes = 0;
  bool interim_shown = false;  // head() holds an interim (1xx) head; the next feed starts afresh

  Impl() {
    settings.on_status = &on_status;
    settings.on_header_field = &on_field;
    settings.on_header_value = &on_value;
    settings.on_headers_complete = &on_headers_complete;
    settings.on_message_complete = &on_message_complete;
    start();
  }
  void start() noexcept {
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = this;
  }
  void next_head() {
    head = ResponseHead{};
    in_head = true;
    head_bytes = 0;
    last_was_value = false;
  }
  static Impl& of(http_parser* p) noexcept { return *static_cast<Impl*>(p->data); }
  // The callbacks only append to strings whose room feed() reserved: no exception crosses C.
  static int on_status(http_parser* p, const char* at, std::size_t n) noexcept {
    of(p).head.reason.append(at, n);
    return 0;
  }
  static int on_field(http_parser* p, const char* at, std::size_t n) noexcept {
    Impl& self = of(p);
    if (self.head.fields.empty() || self.last_was_value) {
      if (self.head.fields.size() >= kMaxResponseFields) {
        self.overflow = true;
        return 1;
      }
      self.head.fields.emplace_back();
    }
    self.last_was_value = false;
    self.head.fields.back().name.append(at, n);
    return 0;
  }
  static int on_value(http_parser* p, const char* at, std::size_t n) noexcept {
    Impl& self = of(p);
    self.last_was_value = true;
    if (self.head.fields.empty()) return 1;
    self.head.fields.back().value.append(at, n);
    return 0;
  }
  static int on_headers_complete(http_parser* p) noexcept {
    Impl& self = of(p);
    self.head.status = static_cast<int>(p->status_code);
    self.head.version = p->http_minor == 0 ? HttpVersion::http_1_0 : HttpVersion::http_1_1;
    self.head.keep_alive = http_should_keep_alive(p) != 0 ? KeepAlive::yes : KeepAlive::no;
    for (HeaderField& f : self.head.fields) f.value = std::string(trim_whitespace(f.value));
    self.head_done = true;
    http_parser_pause(p, 1);
    const int status = self.head.status;
    // No body: HEAD, 1xx, 204, 304 (RFC 9112 §6.3); 1 tells http_parser to skip it.
    return self.head_request || (status >= 100 && status < 200) || status == 204 || status == 304
               ? 1
               : 0;
  }
  static int on_message_complete(http_parser* p) noexcept {
    of(p).message_done = true;
    http_parser_pause(p, 1);
    return 0;
  }
};

ResponseParser::ResponseParser() : impl_(std::make_unique<Impl>()) {}
ResponseParser::~ResponseParser() = default;
ResponseParser::ResponseParser(ResponseParser&&) noexcept = default;
ResponseParser& ResponseParser::operator=(ResponseParser&&) noexcept = default;

void ResponseParser::expect(bool head_request) {
  impl_->head_request = head_request;
  impl_->next_head();
}

ResponseParser::Step ResponseParser::feed(std::span<const std::byte> input) {
  Impl& self = *impl_;
  if (self.interim_shown) {
    self.interim_shown = false;
    self.next_head();
  }
  if (self.in_head) {
    // Room for the whole input in the strings the callbacks append to.
    self.head.reason.reserve(self.head.reason.size() + input.size());
    for (HeaderField& f : self.head.fields) {
      f.name.reserve(f.name.size() + input.size());
      f.value.reserve(f.value.size() + input.size());
    }
    self.head.fields.reserve(kMaxResponseFields);
  }
  self.head_done = false;
  self.message_done = false;
  http_parser_pause(&self.parser, 0);
  const auto* data = reinterpret_cast<const char*>(input.data());
  std::size_t used = http_parser_execute(&self.parser, &self.settings, data, input.size());
  const auto err = HTTP_PARSER_ERRNO(&self.parser);
  const bool paused = err == HPE_PAUSED;
  if (self.in_head) {
    self.head_bytes += used;
    if (self.head_bytes > kMaxResponseHead || self.overflow) {
      self.error = {502, "the response head is larger than the ingress allows"};
      return {Event::failed, used};
    }
  }
  if (err != HPE_OK && !paused) {
    self.error = {502, std::string("malformed response: ") + http_errno_description(err)};
    return {Event::failed, used};
  }
  if (self.head_done) {
    // http_parser paused on the head's last LF without counting it: let it take that byte now,
    // so the next bytes are the body's (or, with no body, the response completes on it).
    http_parser_pause(&self.parser, 0);
    if (used < input.size()) {
      used += http_parser_execute(&self.parser, &self.settings, data + used, 1);
      self.head_bytes += 1;
    }
    self.head.size = self.head_bytes;
    self.in_head = false;
    const int status = self.head.status;
    if (status >= 100 && status < 200 && status != 101) {
      // An interim response; http_parser starts the next head of the same response itself.
      // (It reports message_complete for it: the final head follows.)
      self.interim_shown = true;  // head() shows it until the next feed
      self.in_head = true;
      self.head_bytes = 0;
      return {Event::head, used};
    }
    const bool ended = self.message_done || status == 101;
    if (ended) self.in_head = true;  // the next bytes are the next response's
    return {Event::head, used, ended};
  }
  if (self.message_done) {
    self.in_head = true;
    return {Event::done, used};
  }
  return {self.in_head ? Event::need_more : Event::body, used};
}

bool ResponseParser::finish() {
  Impl& self = *impl_;
  if (self.in_head) return self.head_bytes == 0;
  http_parser_pause(&self.parser, 0);
  self.message_done = false;
  http_parser_execute(&self.parser, &self.settings, nullptr, 0);
  return self.message_done;
}

const ResponseHead& ResponseParser::head() const noexcept {
  return impl_->head;
}
const HeadError& ResponseParser::error() const noexcept {
  return impl_->error;
}

}  // namespace ringtunnel::http
