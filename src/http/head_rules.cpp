// SPDX-License-Identifier: MIT
// Host, authority, framing, keep-alive and upgrade rules over a parsed request head.
#include "http/head_rules.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "observe/quote_untrusted.hpp"

namespace ringtunnel::http {
namespace {

constexpr std::size_t kMaxQuoted = 80;  // bytes of request text a message repeats

char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
}

// The elements of a comma-separated list (RFC 9110 §5.6.1), whitespace around them trimmed,
// empty ones skipped as the RFC requires of recipients.
template <typename Fn>
void for_each_element(std::string_view list, Fn&& fn) {
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim_whitespace(list.substr(0, comma));
    if (!element.empty()) fn(element);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

// Every value of the fields called `name`, joined with ", " (RFC 9110 §5.3).
std::string joined_values(const RequestHead& head, std::string_view name) {
  std::string joined;
  for (const HeaderField& field : head.fields) {
    if (!equals_ignoring_case(field.name, name)) continue;
    if (!joined.empty()) joined += ", ";
    joined += field.value;
  }
  return joined;
}

std::size_t count_fields(const RequestHead& head, std::string_view name) {
  return static_cast<std::size_t>(std::count_if(
      head.fields.begin(), head.fields.end(),
      [&](const HeaderField& field) { return equals_ignoring_case(field.name, name); }));
}

HeadError bad_request(std::string message) {
  return HeadError{400, std::move(message)};
}

std::optional<HeadError> check_host(const RequestHead& head) {
  const std::size_t hosts = count_fields(head, "host");
  if (hosts > 1) return bad_request("the request has more than one Host header");
  if (hosts == 0 && head.version == HttpVersion::http_1_1) {
    return bad_request("the HTTP/1.1 request has no Host header");
  }
  return std::nullopt;
}

// The authority of an absolute-form target ("http://user@a.example.com:8080/x" ->
// "a.example.com:8080"), or nullopt for the other forms.
std::optional<std::string_view> absolute_form_authority(const RequestHead& head) {
  std::string_view target = head.target;
  if (head.method == "CONNECT" || target.empty() || target.front() == '/' || target == "*") {
    return std::nullopt;
  }
  const std::size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  target.remove_prefix(scheme_end + 3);
  std::string_view authority = target.substr(0, target.find_first_of("/?#"));
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  return authority;
}

std::optional<HeadError> check_authority(const RequestHead& head) {
  const std::optional<std::string_view> authority = absolute_form_authority(head);
  const std::optional<std::string_view> host = head.host();
  if (!authority || !host || equals_ignoring_case(*authority, *host)) return std::nullopt;
  return bad_request("the request target names the host " + quote(*authority) +
                     " but the Host header says " + quote(*host));
}

bool is_known_coding(std::string_view coding) {
  static constexpr std::array<std::string_view, 5> kCodings = {"gzip", "x-gzip", "deflate",
                                                               "compress", "x-compress"};
  return std::any_of(kCodings.begin(), kCodings.end(),
                     [&](std::string_view known) { return equals_ignoring_case(coding, known); });
}

std::optional<HeadError> apply_transfer_encoding(RequestHead& head) {
  if (head.version == HttpVersion::http_1_0) {
    return bad_request(
        "the HTTP/1.0 request has a Transfer-Encoding header, which HTTP/1.0 "
        "does not have");
  }
  const std::string value = joined_values(head, "transfer-encoding");
  std::vector<std::string_view> codings;
  for_each_element(value, [&](std::string_view coding) { codings.push_back(coding); });
  if (codings.empty()) return bad_request("the request has an empty Transfer-Encoding header");
  if (!equals_ignoring_case(codings.back(), "chunked")) {
    return bad_request("the request's Transfer-Encoding " + quote(value) +
                       " does not end with chunked, so its body length is unknown");
  }
  for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
    if (equals_ignoring_case(codings[i], "chunked")) {
      return bad_request("the request's Transfer-Encoding " + quote(value) +
                         " applies chunked more than once");
    }
    if (!is_known_coding(codings[i])) {
      return HeadError{501, "the request's Transfer-Encoding uses the coding " + quote(codings[i]) +
                                ", which this server does not support"};
    }
  }
  head.framing = BodyFraming::chunked;
  return std::nullopt;
}

std::optional<HeadError> apply_framing(RequestHead& head) {
  const std::size_t lengths = count_fields(head, "content-length");
  if (count_fields(head, "transfer-encoding") > 0) {
    if (lengths > 0) {
      return bad_request("the request has both Content-Length and Transfer-Encoding");
    }
    return apply_transfer_encoding(head);
  }
  if (lengths > 1) return bad_request("the request has more than one Content-Length header");
  if (lengths == 0) {
    head.framing = BodyFraming::none;
    return std::nullopt;
  }
  // http_parser has already refused anything but digits; this is the same rule, kept here so
  // the framing never rests on a value that was not checked.
  const std::string_view text = *head.field("content-length");
  std::uint64_t length = 0;
  const auto [end, code] = std::from_chars(text.data(), text.data() + text.size(), length);
  if (text.empty() || code != std::errc{} || end != text.data() + text.size()) {
    return bad_request("the request's Content-Length " + quote(text) +
                       " is not a decimal number of bytes");
  }
  head.framing = BodyFraming::content_length;
  head.content_length = length;
  return std::nullopt;
}

void apply_connection_options(RequestHead& head) {
  bool close = false;
  bool keep_alive = false;
  bool upgrade = false;
  for_each_element(joined_values(head, "connection"), [&](std::string_view option) {
    close = close || equals_ignoring_case(option, "close");
    keep_alive = keep_alive || equals_ignoring_case(option, "keep-alive");
    upgrade = upgrade || equals_ignoring_case(option, "upgrade");
  });
  const bool http_1_1 = head.version == HttpVersion::http_1_1;
  head.keep_alive = (!close && (http_1_1 || keep_alive)) ? KeepAlive::yes : KeepAlive::no;
  head.upgrade.reset();
  // RFC 9110 §7.8: Upgrade counts only when Connection names it, and never on HTTP/1.0.
  if (http_1_1 && upgrade) {
    std::string protocols = joined_values(head, "upgrade");
    if (!trim_whitespace(protocols).empty()) head.upgrade = std::move(protocols);
  }
}

}  // namespace

std::string quote(std::string_view text) {
  return observe::quote_untrusted(text, kMaxQuoted);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return to_lower(x) == to_lower(y); });
}

bool is_token_byte(std::uint8_t byte) noexcept {
  if ((byte >= '0' && byte <= '9') || ((byte | 0x20) >= 'a' && (byte | 0x20) <= 'z')) return true;
  return byte != 0 && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(byte)) !=
                          std::string_view::npos;
}

std::string_view trim_whitespace(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<HeadError> apply_head_rules(RequestHead& head) {
  if (auto error = check_host(head)) return error;
  if (auto error = check_authority(head)) return error;
  if (auto error = apply_framing(head)) return error;
  apply_connection_options(head);
  return std::nullopt;
}

std::optional<std::string_view> RequestHead::host() const noexcept {
  return field("host");
}

std::optional<std::string_view> RequestHead::field(std::string_view name) const noexcept {
  for (const HeaderField& candidate : fields) {
    if (equals_ignoring_case(candidate.name, name)) return std::string_view(candidate.value);
  }
  return std::nullopt;
}

}  // namespace ringtunnel::http
