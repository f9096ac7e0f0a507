// SPDX-License-Identifier: MIT
// SocketAddress: numeric address parsing with precise error sentences, printing, comparison.
#include "net/socket_address.hpp"

#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <optional>

namespace ringtunnel::net {
namespace {

// What a reader found wrong. The caller phrases "<what> in '<text>' (<hint>)" so the user sees
// exactly what they typed and, where it helps, how to write it instead.
struct Problem {
  std::string what;
  std::string_view hint;  // a string literal, or empty
};

std::string quote(std::string_view text) {
  std::string out = "'";
  out.append(text);
  out += '\'';
  return out;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// A host name's last label starts with a letter (`example.com`, `myhost`); a mistyped IPv4
// address (`1.2.3`, `1.2.3.4x`) does not. Only used to pick the more helpful message.
bool looks_like_host_name(std::string_view host) {
  const auto last_dot = host.rfind('.');
  const std::string_view label =
      last_dot == std::string_view::npos ? host : host.substr(last_dot + 1);
  return !label.empty() && std::isalpha(static_cast<unsigned char>(label.front())) != 0;
}

// Text like `::1` or `fe80::1:80`: several colons and only hex digits before the first one.
bool looks_like_bare_ipv6(std::string_view text) {
  const auto first = text.find(':');
  if (first == std::string_view::npos || text.find(':', first + 1) == std::string_view::npos) {
    return false;
  }
  const std::string_view head = text.substr(0, first);
  return std::all_of(head.begin(), head.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::optional<std::uint16_t> read_port(std::string_view digits, Problem& problem) {
  if (digits.empty()) {
    problem.what = "missing port after ':'";
    return std::nullopt;
  }
  unsigned long value = 0;  // wider than a port so that 70000 reads as a number, then fails
  const char* const end = digits.data() + digits.size();
  const auto [stop, error] = std::from_chars(digits.data(), end, value);
  const std::string_view number = digits.substr(0, static_cast<std::size_t>(stop - digits.data()));
  if (number.empty()) {
    problem.what = "port " + quote(digits) + " is not a number";
    return std::nullopt;
  }
  if (stop != end) {
    problem.what =
        "unexpected " + quote(digits.substr(number.size())) + " after port " + std::string(number);
    return std::nullopt;
  }
  if (error == std::errc::result_out_of_range || value > 65535) {
    problem.what = "port " + std::string(number) + " is out of range (0-65535)";
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

std::optional<SocketAddress> read_ipv4_host(std::string_view host, Problem& problem) {
  if (host.empty() || host == "*") return SocketAddress::ipv4(INADDR_ANY, 0);
  if (equals_ignoring_case(host, "localhost")) return SocketAddress::loopback_v4(0);
  in_addr addr{};
  const std::string terminated(host);  // inet_pton wants a C string
  if (::inet_pton(AF_INET, terminated.c_str(), &addr) == 1) {
    return SocketAddress::ipv4(ntohl(addr.s_addr), 0);
  }
  if (looks_like_host_name(host)) {
    problem.what = quote(host) + " is not a numeric IPv4 address";
    problem.hint = "host names are not resolved here; use an IP address or 'localhost'";
  } else {
    problem.what = quote(host) + " is not a valid IPv4 address";
  }
  return std::nullopt;
}

// The part after '%' in `[fe80::1%eth0]`: an interface name, or its index as a number.
std::optional<std::uint32_t> read_scope(std::string_view scope, Problem& problem) {
  if (scope.empty()) {
    problem.what = "missing interface name after '%'";
    return std::nullopt;
  }
  if (scope.size() < IF_NAMESIZE) {
    if (const unsigned index = ::if_nametoindex(std::string(scope).c_str()); index != 0) {
      return index;
    }
  }
  std::uint32_t index = 0;
  const char* const end = scope.data() + scope.size();
  const auto [stop, error] = std::from_chars(scope.data(), end, index);
  if (error == std::errc{} && stop == end && index != 0) return index;
  problem.what = "unknown network interface " + quote(scope);
  return std::nullopt;
}

std::optional<SocketAddress> read_ipv6_host(std::string_view inside, Problem& problem) {
  if (inside.empty()) {
    problem.what = "empty IPv6 address between '[' and ']'";
    return std::nullopt;
  }
  std::uint32_t scope_id = 0;
  if (const auto percent = inside.find('%'); percent != std::string_view::npos) {
    const auto scope = read_scope(inside.substr(percent + 1), problem);
    if (!scope) return std::nullopt;
    scope_id = *scope;
    inside = inside.substr(0, percent);
  }
  in6_addr addr{};
  if (::inet_pton(AF_INET6, std::string(inside).c_str(), &addr) != 1) {
    problem.what = quote(inside) + " is not a valid IPv6 address";
    return std::nullopt;
  }
  return SocketAddress::ipv6(addr, 0, scope_id);
}

std::optional<SocketAddress> read_bracketed(std::string_view text, Problem& problem) {
  const auto close = text.find(']');
  if (close == std::string_view::npos) {
    problem.what = "missing ']' after the IPv6 address";
    return std::nullopt;
  }
  auto address = read_ipv6_host(text.substr(1, close - 1), problem);
  if (!address) return std::nullopt;
  const std::string_view after = text.substr(close + 1);
  if (after.empty()) {
    problem.what = "missing ':PORT' after ']'";
    return std::nullopt;
  }
  if (after.front() != ':') {
    problem.what = "expected ':PORT' after ']' but found " + quote(after);
    return std::nullopt;
  }
  const auto port = read_port(after.substr(1), problem);
  if (!port) return std::nullopt;
  address->set_port(*port);
  return address;
}

std::optional<SocketAddress> read_address(std::string_view text, Problem& problem) {
  if (text.front() == '[') return read_bracketed(text, problem);
  if (looks_like_bare_ipv6(text)) {
    problem.what = "IPv6 address without brackets";
    problem.hint = "write it as '[ADDRESS]:PORT', e.g. '[::1]:9000'";
    return std::nullopt;
  }
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    problem.what = "missing ':PORT'";
    return std::nullopt;
  }
  auto address = read_ipv4_host(text.substr(0, colon), problem);
  if (!address) return std::nullopt;
  const auto port = read_port(text.substr(colon + 1), problem);
  if (!port) return std::nullopt;
  address->set_port(*port);
  return address;
}

// Runs the reader and, on failure, phrases the whole sentence.
std::optional<SocketAddress> parse_or_explain(std::string_view text, std::string& sentence) {
  if (text.empty()) {
    sentence = "address is empty (expected HOST:PORT, e.g. '127.0.0.1:9000' or '[::1]:9000')";
    return std::nullopt;
  }
  Problem problem;
  // The parsers below hand pieces to inet_pton as C strings: a NUL inside would cut the text
  // short and let "127.0.0.1\0junk:80" pass as 127.0.0.1:80.
  if (text.find('\0') != std::string_view::npos) {
    problem.what = "a NUL character";
    sentence = problem.what + " in the address";
    return std::nullopt;
  }
  auto address = read_address(text, problem);
  if (address) return address;
  sentence = problem.what + " in " + quote(text);
  if (!problem.hint.empty()) {
    sentence += " (";
    sentence += problem.hint;
    sentence += ')';
  }
  return std::nullopt;
}

}  // namespace

SocketAddress::SocketAddress() noexcept : storage_{}, length_(0) {
  storage_.ss_family = AF_UNSPEC;
}

Result<SocketAddress> SocketAddress::parse(std::string_view text) {
  std::string sentence;
  if (auto address = parse_or_explain(text, sentence)) return *address;
  return std::make_error_code(std::errc::invalid_argument);
}

std::string SocketAddress::parse_error_text(std::string_view text) {
  std::string sentence;
  static_cast<void>(parse_or_explain(text, sentence));
  return sentence;
}

SocketAddress SocketAddress::ipv4(std::uint32_t host_order_addr, std::uint16_t port) noexcept {
  sockaddr_in raw{};
  raw.sin_family = AF_INET;
  raw.sin_port = htons(port);
  raw.sin_addr.s_addr = htonl(host_order_addr);
  SocketAddress address;
  std::memcpy(&address.storage_, &raw, sizeof(raw));
  address.length_ = sizeof(raw);
  return address;
}

SocketAddress SocketAddress::ipv6(const in6_addr& addr, std::uint16_t port,
                                  std::uint32_t scope_id) noexcept {
  sockaddr_in6 raw{};
  raw.sin6_family = AF_INET6;
  raw.sin6_port = htons(port);
  raw.sin6_addr = addr;
  raw.sin6_scope_id = scope_id;
  SocketAddress address;
  std::memcpy(&address.storage_, &raw, sizeof(raw));
  address.length_ = sizeof(raw);
  return address;
}

SocketAddress SocketAddress::loopback_v4(std::uint16_t port) noexcept {
  return ipv4(INADDR_LOOPBACK, port);
}

SocketAddress SocketAddress::loopback_v6(std::uint16_t port) noexcept {
  return ipv6(in6addr_loopback, port);
}

Result<SocketAddress> SocketAddress::from_sockaddr(const ::sockaddr* addr, socklen_t length) {
  if (addr == nullptr || length < sizeof(sa_family_t)) return errno_code(EINVAL);
  socklen_t needed = 0;
  if (addr->sa_family == AF_INET) {
    needed = sizeof(sockaddr_in);
  } else if (addr->sa_family == AF_INET6) {
    needed = sizeof(sockaddr_in6);
  } else {
    return errno_code(EAFNOSUPPORT);
  }
  if (length < needed) return errno_code(EINVAL);
  // Copy only the family's own struct so that trailing bytes never take part in comparisons.
  SocketAddress address;
  std::memcpy(&address.storage_, addr, needed);
  address.length_ = needed;
  return address;
}

const ::sockaddr* SocketAddress::sockaddr() const noexcept {
  return reinterpret_cast<const ::sockaddr*>(&storage_);
}

std::uint16_t SocketAddress::port() const noexcept {
  if (family() == AF_INET) return ntohs(as_v4().sin_port);
  if (family() == AF_INET6) return ntohs(as_v6().sin6_port);
  return 0;
}

void SocketAddress::set_port(std::uint16_t port) noexcept {
  RT_ASSERT(family() == AF_INET || family() == AF_INET6);
  // sin_port and sin6_port share an offset, but say which one we mean.
  if (family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  }
}

std::string SocketAddress::to_string() const {
  char host[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &as_v4().sin_addr, host, sizeof(host));
    return std::string(host) + ':' + std::to_string(port());
  }
  if (family() != AF_INET6) return "<unspecified>";
  ::inet_ntop(AF_INET6, &as_v6().sin6_addr, host, sizeof(host));
  std::string text = "[";
  text += host;
  if (const std::uint32_t scope = as_v6().sin6_scope_id; scope != 0) {
    char name[IF_NAMESIZE] = {};
    text += '%';
    text += ::if_indextoname(scope, name) != nullptr ? std::string(name) : std::to_string(scope);
  }
  return text + "]:" + std::to_string(port());
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
  if (a.family() != b.family()) return false;
  if (a.family() == AF_INET) {
    return a.as_v4().sin_port == b.as_v4().sin_port &&
           a.as_v4().sin_addr.s_addr == b.as_v4().sin_addr.s_addr;
  }
  if (a.family() == AF_INET6) {
    const sockaddr_in6& x = a.as_v6();
    const sockaddr_in6& y = b.as_v6();
    return x.sin6_port == y.sin6_port && x.sin6_scope_id == y.sin6_scope_id &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(x.sin6_addr)) == 0;
  }
  return true;  // both empty
}

}  // namespace ringtunnel::net
