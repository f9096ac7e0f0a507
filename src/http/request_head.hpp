// SPDX-License-Identifier: MIT
// RequestHeadParser: an HTTP/1.x request head read incrementally with nodejs/http-parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringtunnel::http {

// Limits, enforced by the parser (a request over one fails with the status named):

/// The whole head: request line, header lines and the empty line that ends it, every line
/// ending included (and any empty lines before the request line). Over it: 431.
inline constexpr std::size_t kMaxRequestHead = 16 * 1024;
/// The request line without its line ending. Over it: 414 (the target is the only part of a
/// request line that can grow, since http_parser knows only fixed methods and versions).
inline constexpr std::size_t kMaxRequestLine = 8 * 1024;
/// Header field lines. Over it: 431.
inline constexpr std::size_t kMaxHeaderFields = 100;

/// The two versions served; any other is refused with 505.
enum class HttpVersion : std::uint8_t { http_1_0, http_1_1 };

/// How the body that follows the head is delimited (RFC 9112 §6.3).
enum class BodyFraming : std::uint8_t {
  none,            // no Content-Length and no Transfer-Encoding: the request has no body
  content_length,  // exactly RequestHead::content_length bytes (which may be 0)
  chunked,         // Transfer-Encoding ending in chunked: chunks up to the zero-size one
};

/// Whether the connection may carry another request after this one (RFC 9112 §9.3).
enum class KeepAlive : std::uint8_t { no, yes };

/// One header field line: the name as sent (case kept), the value without the whitespace
/// around it.
struct HeaderField {
  std::string name;
  std::string value;
  bool operator==(const HeaderField&) const = default;
};

/// A parsed request head. A plain value (it owns its strings): copy it, move it, hand it to
/// another core.
struct RequestHead {
  std::string method;  // as http_parser spells it: "GET", "M-SEARCH", ...
  std::string target;  // the request target as sent: "/x?y", "http://a/b", "a.b:443", "*"
  HttpVersion version = HttpVersion::http_1_1;
  std::vector<HeaderField> fields;  // in the order sent, repeats kept
  std::size_t size = 0;             // bytes of the head, the empty line that ends it included
  BodyFraming framing = BodyFraming::none;
  std::uint64_t content_length = 0;  // the body's length when framing == content_length
  KeepAlive keep_alive = KeepAlive::yes;
  /// The Upgrade value ("websocket", "h2c, websocket") when the request asks to switch:
  /// HTTP/1.1, an Upgrade field, and "upgrade" among the Connection options (RFC 9110 §7.8);
  /// several Upgrade fields are joined with ", ". nullopt otherwise.
  std::optional<std::string> upgrade;

  bool operator==(const RequestHead&) const = default;
  /// The Host value (there is at most one); nullopt when the request has none, which only an
  /// HTTP/1.0 request may. For an absolute-form target the parser has checked that the Host
  /// value equals the target's authority, so routing by it is routing by the target.
  std::optional<std::string_view> host() const noexcept;
  /// The value of the first field called `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> field(std::string_view name) const noexcept;
};

/// Why a head was refused: the status the ingress should answer (400 malformed, 414 request
/// line too long, 431 head too large or too many fields, 501 unknown method or transfer
/// coding, 505 version) and one sentence naming what was wrong. Any text repeated from the
/// request is quoted, cut to 80 bytes and has every byte that is not printable ASCII written
/// as \xNN, so the message is safe to log and to send back.
struct HeadError {
  int status = 400;
  std::string message;
  bool operator==(const HeadError&) const = default;
};

/// Where a parser stands.
enum class HeadStatus : std::uint8_t { need_more, complete, failed };

/// What one feed() did. `used`: the bytes of that input the parser took. need_more: all of
/// them. complete: those up to the end of the head, so input.subspan(used) is what follows it
/// (the body, or the next request) untouched. failed: those before the fault (the whole head
/// for a fault found once it was complete).
struct FeedOutcome {
  HeadStatus status = HeadStatus::need_more;
  std::size_t used = 0;
  bool operator==(const FeedOutcome&) const = default;
};

/// Reads one request head from bytes that arrive in pieces, for a server (the ingress).
///
/// The head is parsed by http_parser; on top of it the parser applies what Debian's build of
/// it leaves out (it is compiled with HTTP_PARSER_STRICT=0) and what a front end must refuse
/// (RFC 9112): a CR must be followed by LF; the request line ends in "HTTP/d.d"; header names
/// are tokens with nothing between them and the colon; no obsolete line folding; no control
/// bytes in the request line; one Host at most, and one on HTTP/1.1; an absolute-form target
/// agrees with Host; no Transfer-Encoding on HTTP/1.0; Transfer-Encoding ends in chunked,
/// names chunked once and only known codings; not both Content-Length and Transfer-Encoding;
/// one Content-Length (even two equal ones are refused: RFC 9110 §8.6 allows either).
/// Bare LF line endings are accepted (RFC 9112 §2.2), as are empty lines before the request
/// line, and bytes 0x80-0xff in the target.
///
/// The parser never looks past the head: whatever follows it is the caller's to forward.
/// One parser belongs to one connection on one thread; it allocates (its strings) while
/// reading a head, and throws nothing but std::bad_alloc. A moved-from parser may only be
/// destroyed or assigned to.
class RequestHeadParser {
 public:
  RequestHeadParser();
  ~RequestHeadParser();
  RequestHeadParser(RequestHeadParser&&) noexcept;
  RequestHeadParser& operator=(RequestHeadParser&&) noexcept;
  RequestHeadParser(const RequestHeadParser&) = delete;
  RequestHeadParser& operator=(const RequestHeadParser&) = delete;

  /// Reads the next bytes of the head. Pieces of any size give the same result as one piece.
  /// Once complete or failed, it takes nothing more (used 0, same status) until reset().
  [[nodiscard]] FeedOutcome feed(std::span<const std::byte> input);

  /// Forgets the head, for the next request on a keep-alive connection.
  void reset() noexcept;

  HeadStatus status() const noexcept;
  /// The head; only once status() is complete.
  const RequestHead& head() const noexcept;
  /// The fault; only once status() is failed.
  const HeadError& error() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringtunnel::http
