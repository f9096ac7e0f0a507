// SPDX-License-Identifier: MIT
// BodyScanner: where a request body ends, so it is forwarded as it is and the next pipelined
// request starts after it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "http/request_head.hpp"

namespace ringtunnel::http {

/// Walks one request body framed as its head says: Content-Length bytes, or chunks up to the
/// last one and its trailers (read by http_parser itself, so chunk extensions and trailers are
/// its business, not a hand-written parser's). The bytes are only counted, never copied.
class BodyScanner {
 public:
  BodyScanner(BodyFraming framing, std::uint64_t content_length);
  ~BodyScanner();
  BodyScanner(BodyScanner&&) noexcept;
  BodyScanner& operator=(BodyScanner&&) noexcept;

  struct Step {
    std::size_t used = 0;  ///< bytes of input that belong to the body (forward them)
    bool done = false;     ///< the body ended: input.subspan(used) is what follows it
  };
  Step feed(std::span<const std::byte> input);
  bool done() const noexcept { return done_; }
  bool failed() const noexcept { return failed_; }
  /// Why the chunked framing was refused (status 400); only once failed().
  const HeadError& error() const noexcept { return error_; }

 private:
  struct Chunked;
  BodyFraming framing_;
  std::uint64_t left_ = 0;
  bool done_ = false;
  bool failed_ = false;
  HeadError error_;
  std::unique_ptr<Chunked> chunked_;
};

}  // namespace ringtunnel::http
