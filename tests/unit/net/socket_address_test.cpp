// SPDX-License-Identifier: MIT
// Tests for net::SocketAddress: every accepted text form, every rejection and its sentence.
#include "net/socket_address.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/un.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <string_view>

using ringtunnel::net::SocketAddress;

namespace Catch {
template <>
struct StringMaker<SocketAddress> {
  static std::string convert(const SocketAddress& address) { return address.to_string(); }
};
}  // namespace Catch

namespace {

struct Accepted {
  std::string_view text;
  int family;
  std::uint16_t port;
  std::string_view printed;
};

constexpr Accepted kAccepted[] = {
    {"1.2.3.4:80", AF_INET, 80, "1.2.3.4:80"},
    {"127.0.0.1:0", AF_INET, 0, "127.0.0.1:0"},
    {"255.255.255.255:65535", AF_INET, 65535, "255.255.255.255:65535"},
    {"10.0.0.1:0080", AF_INET, 80, "10.0.0.1:80"},
    {"localhost:8080", AF_INET, 8080, "127.0.0.1:8080"},
    {"LocalHost:1", AF_INET, 1, "127.0.0.1:1"},
    {"*:443", AF_INET, 443, "0.0.0.0:443"},
    {":443", AF_INET, 443, "0.0.0.0:443"},
    {"[::1]:9000", AF_INET6, 9000, "[::1]:9000"},
    {"[::]:443", AF_INET6, 443, "[::]:443"},
    {"[2001:db8::1]:53", AF_INET6, 53, "[2001:db8::1]:53"},
    {"[2001:DB8::A]:1", AF_INET6, 1, "[2001:db8::a]:1"},
    {"[::ffff:1.2.3.4]:80", AF_INET6, 80, "[::ffff:1.2.3.4]:80"},
};

struct Rejected {
  std::string_view text;
  std::string_view sentence;
};

constexpr Rejected kRejected[] = {
    {"", "address is empty (expected HOST:PORT, e.g. '127.0.0.1:9000' or '[::1]:9000')"},
    {"127.0.0.1", "missing ':PORT' in '127.0.0.1'"},
    {"127.0.0.1:", "missing port after ':' in '127.0.0.1:'"},
    {"127.0.0.1:abc", "port 'abc' is not a number in '127.0.0.1:abc'"},
    {"127.0.0.1:-1", "port '-1' is not a number in '127.0.0.1:-1'"},
    {"127.0.0.1:+80", "port '+80' is not a number in '127.0.0.1:+80'"},
    {"127.0.0.1:70000", "port 70000 is out of range (0-65535) in '127.0.0.1:70000'"},
    {"127.0.0.1:65536", "port 65536 is out of range (0-65535) in '127.0.0.1:65536'"},
    {"127.0.0.1:99999999999999999999999",
     "port 99999999999999999999999 is out of range (0-65535) in "
     "'127.0.0.1:99999999999999999999999'"},
    {"1.2.3.4:80x", "unexpected 'x' after port 80 in '1.2.3.4:80x'"},
    {"1.2.3.4:80 ", "unexpected ' ' after port 80 in '1.2.3.4:80 '"},
    {"1.2.3.4:80:90", "unexpected ':90' after port 80 in '1.2.3.4:80:90'"},
    {"1.2.3:80", "'1.2.3' is not a valid IPv4 address in '1.2.3:80'"},
    {"256.1.1.1:80", "'256.1.1.1' is not a valid IPv4 address in '256.1.1.1:80'"},
    {" 1.2.3.4:80", "' 1.2.3.4' is not a valid IPv4 address in ' 1.2.3.4:80'"},
    {"example.com:80",
     "'example.com' is not a numeric IPv4 address in 'example.com:80' (host names are not "
     "resolved here; use an IP address or 'localhost')"},
    {"::1",
     "IPv6 address without brackets in '::1' (write it as '[ADDRESS]:PORT', e.g. '[::1]:9000')"},
    {"::1:9000",
     "IPv6 address without brackets in '::1:9000' (write it as '[ADDRESS]:PORT', e.g. "
     "'[::1]:9000')"},
    {"fe80::1:9000",
     "IPv6 address without brackets in 'fe80::1:9000' (write it as '[ADDRESS]:PORT', e.g. "
     "'[::1]:9000')"},
    {"[::1]", "missing ':PORT' after ']' in '[::1]'"},
    {"[::1]9000", "expected ':PORT' after ']' but found '9000' in '[::1]9000'"},
    {"[::1]:", "missing port after ':' in '[::1]:'"},
    {"[::1]:65536", "port 65536 is out of range (0-65535) in '[::1]:65536'"},
    {"[::1]:80x", "unexpected 'x' after port 80 in '[::1]:80x'"},
    {"[::1:9000", "missing ']' after the IPv6 address in '[::1:9000'"},
    {"[]:80", "empty IPv6 address between '[' and ']' in '[]:80'"},
    {"[1.2.3.4]:80", "'1.2.3.4' is not a valid IPv6 address in '[1.2.3.4]:80'"},
    {"[::1::2]:80", "'::1::2' is not a valid IPv6 address in '[::1::2]:80'"},
    {"[fe80::1%]:1", "missing interface name after '%' in '[fe80::1%]:1'"},
    {"[fe80::1%nosuchif0]:1", "unknown network interface 'nosuchif0' in '[fe80::1%nosuchif0]:1'"},
};

}  // namespace

TEST_CASE("SocketAddress parses every accepted form and prints it back", "[net][address]") {
  for (const Accepted& form : kAccepted) {
    CAPTURE(form.text);
    auto parsed = SocketAddress::parse(form.text);
    REQUIRE(parsed.ok());
    CHECK(parsed->family() == form.family);
    CHECK(parsed->port() == form.port);
    CHECK(parsed->to_string() == form.printed);
    CHECK(parsed->length() ==
          (form.family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)));
    CHECK(SocketAddress::parse_error_text(form.text).empty());

    auto reparsed = SocketAddress::parse(parsed->to_string());
    REQUIRE(reparsed.ok());
    CHECK(reparsed.value() == parsed.value());
  }
}

TEST_CASE("SocketAddress rejects malformed text and says why", "[net][address]") {
  for (const Rejected& bad : kRejected) {
    CAPTURE(bad.text);
    auto parsed = SocketAddress::parse(bad.text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error() == std::errc::invalid_argument);
    CHECK(SocketAddress::parse_error_text(bad.text) == bad.sentence);
  }
}

TEST_CASE("SocketAddress parses scoped link-local IPv6", "[net][address]") {
  const unsigned lo_index = ::if_nametoindex("lo");
  if (lo_index == 0) {
    WARN("no 'lo' interface on this machine: skipping scoped IPv6 parsing");
    return;
  }
  auto by_name = SocketAddress::parse("[fe80::1%lo]:1");
  REQUIRE(by_name.ok());
  const auto* raw = reinterpret_cast<const sockaddr_in6*>(by_name->sockaddr());
  CHECK(raw->sin6_scope_id == lo_index);
  CHECK(by_name->to_string() == "[fe80::1%lo]:1");

  auto by_index = SocketAddress::parse("[fe80::1%" + std::to_string(lo_index) + "]:1");
  REQUIRE(by_index.ok());
  CHECK(by_index.value() == by_name.value());

  auto unscoped = SocketAddress::parse("[fe80::1]:1");
  REQUIRE(unscoped.ok());
  CHECK(unscoped.value() != by_name.value());
}

TEST_CASE("SocketAddress factories build the addresses they name", "[net][address]") {
  CHECK(SocketAddress::ipv4(0x7f000001, 80) == SocketAddress::parse("127.0.0.1:80").value());
  CHECK(SocketAddress::ipv4(0x01020304, 5).to_string() == "1.2.3.4:5");
  CHECK(SocketAddress::loopback_v4(9000).to_string() == "127.0.0.1:9000");
  CHECK(SocketAddress::loopback_v6(9000).to_string() == "[::1]:9000");
  CHECK(SocketAddress::loopback_v6(9000).family() == AF_INET6);

  in6_addr doc{};
  REQUIRE(::inet_pton(AF_INET6, "2001:db8::7", &doc) == 1);
  CHECK(SocketAddress::ipv6(doc, 443).to_string() == "[2001:db8::7]:443");
}

TEST_CASE("SocketAddress stores network byte order in its sockaddr", "[net][address]") {
  const SocketAddress address = SocketAddress::ipv4(0x0a000001, 0x1234);
  const auto* raw = reinterpret_cast<const sockaddr_in*>(address.sockaddr());
  CHECK(raw->sin_family == AF_INET);
  CHECK(raw->sin_port == htons(0x1234));
  CHECK(raw->sin_addr.s_addr == htonl(0x0a000001));
  CHECK(address.length() == sizeof(sockaddr_in));
}

TEST_CASE("SocketAddress set_port changes only the port", "[net][address]") {
  SocketAddress v4 = SocketAddress::loopback_v4(1);
  v4.set_port(65535);
  CHECK(v4.to_string() == "127.0.0.1:65535");

  SocketAddress v6 = SocketAddress::loopback_v6(1);
  v6.set_port(8443);
  CHECK(v6.port() == 8443);
  CHECK(v6.to_string() == "[::1]:8443");
}

TEST_CASE("SocketAddress equality compares family, address and port", "[net][address]") {
  CHECK(SocketAddress::loopback_v4(80) == SocketAddress::loopback_v4(80));
  CHECK(SocketAddress::loopback_v4(80) != SocketAddress::loopback_v4(81));
  CHECK(SocketAddress::loopback_v4(80) != SocketAddress::ipv4(0x7f000002, 80));
  CHECK(SocketAddress::loopback_v4(80) != SocketAddress::loopback_v6(80));
  CHECK(SocketAddress::loopback_v6(80) != SocketAddress::loopback_v6(81));
  CHECK(SocketAddress() == SocketAddress());
  CHECK(SocketAddress() != SocketAddress::loopback_v4(0));
}

TEST_CASE("An empty SocketAddress says so", "[net][address]") {
  const SocketAddress empty;
  CHECK(empty.family() == AF_UNSPEC);
  CHECK(empty.length() == 0);
  CHECK(empty.port() == 0);
  CHECK(empty.to_string() == "<unspecified>");
}

TEST_CASE("SocketAddress from_sockaddr copies IP addresses and refuses others", "[net][address]") {
  SECTION("round trip through sockaddr()/length()") {
    for (const SocketAddress& original :
         {SocketAddress::loopback_v4(7), SocketAddress::loopback_v6(7)}) {
      auto copy = SocketAddress::from_sockaddr(original.sockaddr(), original.length());
      REQUIRE(copy.ok());
      CHECK(copy.value() == original);
      CHECK(copy->length() == original.length());
    }
  }
  SECTION("a longer buffer is trimmed to the family's struct") {
    sockaddr_storage storage{};
    const SocketAddress original = SocketAddress::loopback_v4(7);
    std::memcpy(&storage, original.sockaddr(), original.length());
    auto copy =
        SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), sizeof(storage));
    REQUIRE(copy.ok());
    CHECK(copy->length() == sizeof(sockaddr_in));
    CHECK(copy.value() == original);
  }
  SECTION("a truncated address is EINVAL") {
    const SocketAddress v6 = SocketAddress::loopback_v6(7);
    auto copy = SocketAddress::from_sockaddr(v6.sockaddr(), sizeof(sockaddr_in));
    REQUIRE_FALSE(copy.ok());
    CHECK(copy.error() == std::errc::invalid_argument);
    CHECK(SocketAddress::from_sockaddr(nullptr, 0).error() == std::errc::invalid_argument);
  }
  SECTION("a non-IP family is EAFNOSUPPORT") {
    sockaddr_un unix_address{};
    unix_address.sun_family = AF_UNIX;
    auto copy = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&unix_address),
                                             sizeof(unix_address));
    REQUIRE_FALSE(copy.ok());
    CHECK(copy.error() == std::errc::address_family_not_supported);
  }
}

TEST_CASE("an address with a NUL character inside is refused", "[net][address]") {
  using namespace std::string_view_literals;
  for (auto text : {"127.0.0.1\0junk:80"sv, "[::1\0junk]:80"sv, "127.0.0.1:8\0"sv}) {
    CHECK_FALSE(ringtunnel::net::SocketAddress::parse(text).ok());
    CHECK(ringtunnel::net::SocketAddress::parse_error_text(text) == "a NUL character in the address");
  }
}
