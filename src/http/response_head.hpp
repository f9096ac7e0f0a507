// SPDX-License-Identifier: MIT
// ResponseParser: responses from a tenant's service, read with http_parser: each head whole
// (to be forwarded rewritten), each body as bytes to pass on untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_head.hpp"

namespace ringtunnel::http {

inline constexpr std::size_t kMaxResponseHead = 64 * 1024;
inline constexpr std::size_t kMaxResponseFields = 200;

struct ResponseHead {
  int status = 0;
  HttpVersion version = HttpVersion::http_1_1;
  std::string reason;
  std::vector<HeaderField> fields;
  std::size_t size = 0;
  KeepAlive keep_alive = KeepAlive::yes;
  std::optional<std::string_view> field(std::string_view name) const noexcept;
};

/// Reads the responses of one upstream connection, in order. The service is a tenant's: its
/// bytes are checked as a peer's (head limits; a malformed response fails with status 502).
/// One parser per connection, one thread.
class ResponseParser {
 public:
  ResponseParser();
  ~ResponseParser();
  ResponseParser(ResponseParser&&) noexcept;
  ResponseParser& operator=(ResponseParser&&) noexcept;

  /// Before each response: whether its request was HEAD (then no body, whatever the head says).
  void expect(bool head_request);

  enum class Event : std::uint8_t { need_more, head, body, done, failed };
  struct Step {
    Event event = Event::need_more;
    std::size_t used = 0;
    /// On a head event: the response has no body and is complete already (HEAD, 204, 304,
    /// 101): there is no done event for it.
    bool ended = false;
  };
  /// head: a whole head was read (its bytes are not forwarded as they are: forward
  /// append_forwarded_response(head())); a 1xx other than 101 is a head too, and the parser
  /// then reads the final head of the same response by itself. body: `used` bytes of body to
  /// forward as they are. done: the response ended after `used` more body bytes (forward
  /// them); what follows is the next response's. A 101 is a head that has ended.
  Step feed(std::span<const std::byte> input);
  /// The upstream closed: true when that ends the response properly (a body read until
  /// close), false when it cut one.
  bool finish();
  const ResponseHead& head() const noexcept;
  const HeadError& error() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringtunnel::http
