// SPDX-License-Identifier: MIT
// BodyScanner: counting for Content-Length; http_parser, primed with a fixed chunked head, for
// chunked bodies.
#include "http/body_scanner.hpp"

#include <http_parser.h>

#include <algorithm>
#include <string_view>

namespace ringtunnel::http {

struct BodyScanner::Chunked {
  http_parser parser{};
  http_parser_settings settings{};
  bool complete = false;
  Chunked() {
    settings.on_message_complete = [](http_parser* p) noexcept -> int {
      static_cast<Chunked*>(p->data)->complete = true;
      http_parser_pause(p, 1);
      return 0;
    };
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
    // The real head was parsed (and checked) already; this one only puts http_parser in the
    // state of reading a chunked body.
    constexpr std::string_view kHead =
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    http_parser_execute(&parser, &settings, kHead.data(), kHead.size());
  }
};

BodyScanner::BodyScanner(BodyFraming framing, std::uint64_t content_length)
    : framing_(framing), left_(content_length) {
  if (framing_ == BodyFraming::none || (framing_ == BodyFraming::content_length && left_ == 0)) {
    done_ = true;
  } else if (framing_ == BodyFraming::chunked) {
    chunked_ = std::make_unique<Chunked>();
  }
}

BodyScanner::~BodyScanner() = default;
BodyScanner::BodyScanner(BodyScanner&&) noexcept = default;
BodyScanner& BodyScanner::operator=(BodyScanner&&) noexcept = default;

BodyScanner::Step BodyScanner::feed(std::span<const std::byte> input) {
  if (done_ || failed_) return {0, done_};
  if (framing_ == BodyFraming::content_length) {
    const auto used = static_cast<std::size_t>(std::min<std::uint64_t>(left_, input.size()));
    left_ -= used;
    done_ = left_ == 0;
    return {used, done_};
  }
  Chunked& chunked = *chunked_;
  const std::size_t used =
      http_parser_execute(&chunked.parser, &chunked.settings,
                          reinterpret_cast<const char*>(input.data()), input.size());
  const auto err = HTTP_PARSER_ERRNO(&chunked.parser);
  if (err != HPE_OK && err != HPE_PAUSED) {
    failed_ = true;
    error_ = {400,
              std::string("the chunked request body is malformed: ") + http_errno_description(err)};
    return {used, false};
  }
  done_ = chunked.complete;
  return {used, done_};
}

}  // namespace ringtunnel::http
