// SPDX-License-Identifier: MIT
// Server policy: port lists, host lists, both checks on hostile client text, CIDR edges.
#include "server/policy.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

using ringtunnel::net::SocketAddress;
using ringtunnel::server::Decision;
using ringtunnel::server::HostSet;
using ringtunnel::server::Policy;
using ringtunnel::server::PortSet;
using Refusal = ringtunnel::server::Decision::Refusal;
using namespace std::string_literals;

namespace {

bool printable_ascii(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

PortSet ports(const std::string& text) {
  std::string error;
  auto set = PortSet::parse(text, &error);
  INFO(text << ": " << error);
  REQUIRE(set.has_value());
  return *set;
}

HostSet hosts(const std::string& text) {
  std::string error;
  auto set = HostSet::parse(text, &error);
  INFO(text << ": " << error);
  REQUIRE(set.has_value());
  return *set;
}

SocketAddress address(const std::string& text) {
  auto parsed = SocketAddress::parse(text);
  INFO(text);
  REQUIRE(parsed.ok());
  return *parsed;
}

struct Failure {
  std::string text;
  std::vector<std::string> says;
};

}  // namespace

// ---- PortSet ------------------------------------------------------------------------------

TEST_CASE("a default port set allows every port but 0", "[server]") {
  const PortSet set;
  CHECK(set.allows_all());
  CHECK(set.contains(1));
  CHECK(set.contains(22));
  CHECK(set.contains(65535));
  CHECK_FALSE(set.contains(0));
  CHECK(set.to_string() == "every port");
}

TEST_CASE("port lists parse to merged sorted ranges", "[server]") {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"5432,6379,80", "80,5432,6379"},
      {" 5432 , 6379 ,\t80 ", "80,5432,6379"},
      {"8000-8100", "8000-8100"},
      {"8000 - 8100,80", "80,8000-8100"},
      {"80,80,81", "80-81"},
      {"10-20,15-30,31,5", "5,10-31"},
      {"1-65535", "1-65535"},
      {"65535,1", "1,65535"},
      {"080", "80"},
      {"7-7", "7"},
      {"5432,6379,80,8000-8100", "80,5432,6379,8000-8100"},
  };
  for (const auto& [text, shown] : rows) {
    INFO(text);
    const PortSet set = ports(text);
    CHECK_FALSE(set.allows_all());
    CHECK(set.to_string() == shown);
  }
}

TEST_CASE("contains() checks range edges", "[server]") {
  const PortSet set = ports("80,8000-8100,65535");
  const std::vector<std::pair<int, bool>> rows = {
      {0, false},   {1, false},   {79, false},  {80, true},    {81, false},    {7999, false},
      {8000, true}, {8050, true}, {8100, true}, {8101, false}, {65534, false}, {65535, true},
  };
  for (const auto& [port, in] : rows) {
    INFO(port);
    CHECK(set.contains(static_cast<std::uint16_t>(port)) == in);
  }
  const PortSet one = ports("1");
  CHECK(one.contains(1));
  CHECK_FALSE(one.contains(0));
  CHECK_FALSE(one.contains(2));
}

TEST_CASE("malformed or explicitly empty port lists are refused", "[server]") {
  const std::vector<Failure> rows = {
      {"", {"port list '' is empty", "leave the option out to allow every port"}},
      {"  \t", {"port list '  \\x09' is empty"}},
      {"80,,81", {"entry 2 of port list '80,,81' is empty"}},
      {"80,", {"entry 2 of port list '80,' is empty"}},
      {",80", {"entry 1 of port list ',80' is empty"}},
      {"0", {"port 0 in port list '0' is out of range (1-65535)"}},
      {"65536", {"port 65536 in port list '65536' is out of range (1-65535)"}},
      {"99999999999999999999", {"port '99999999999999999999' in port list", "out of range"}},
      {"8000-70000", {"port 70000 in port list '8000-70000' is out of range"}},
      {"0-10", {"port 0 in port list '0-10' is out of range"}},
      {"8100-8000",
       {"range '8100-8000' in port list '8100-8000' runs backwards", "did you mean '8000-8100'?"}},
      {"abc", {"entry 'abc' in port list 'abc' is not a port or a range like '8000-8100'"}},
      {"+80", {"entry '+80'", "is not a port"}},
      {"-80", {"entry '-80'", "is not a port"}},
      {"80-", {"entry '80-'", "is not a port"}},
      {"1-2-3", {"entry '1-2-3'", "is not a port"}},
      {"80;81", {"entry '80;81'", "is not a port"}},
      {"80 81", {"entry '80 81'", "is not a port"}},
      {"0x50", {"entry '0x50'", "is not a port"}},
      {"80\0"s, {"entry '80\\x00'", "is not a port"}},
  };
  for (const Failure& row : rows) {
    INFO("'" << row.text << "'");
    std::string error;
    CHECK_FALSE(PortSet::parse(row.text, &error).has_value());
    INFO("error: " << error);
    for (const std::string& part : row.says) CHECK(error.find(part) != std::string::npos);
    CHECK(printable_ascii(error));
  }
  CHECK_FALSE(PortSet::parse("x", nullptr).has_value());
}

// ---- HostSet parsing ----------------------------------------------------------------------

TEST_CASE("host lists parse names, addresses and blocks", "[server]") {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"db.internal", "localhost, db.internal"},
      {"DB.Internal., db.internal,\tdb.internal.", "localhost, db.internal"},
      {"10.0.0.0/8, fd00::/8", "localhost, 10.0.0.0/8, fd00::/8"},
      {"[::1]", "localhost, ::1"},
      {"[fd00::]/8", "localhost, fd00::/8"},
      {"0.0.0.0/0,::/0", "localhost, 0.0.0.0/0, ::/0"},
      {"1.2.3.4/32,1.2.3.4", "localhost, 1.2.3.4"},
      {"fd00::5/128", "localhost, fd00::5"},
      {"::ffff:10.0.0.0/104", "localhost, 10.0.0.0/8"},
      {"::ffff:10.0.0.5", "localhost, 10.0.0.5"},
      {"localhost", "localhost"},
      {"LOCALHOST.", "localhost"},
      {"10.0.0.0/08", "localhost, 10.0.0.0/8"},
      {"zz.example,aa.example", "localhost, aa.example, zz.example"},
      {"192.168.0.0/23", "localhost, 192.168.0.0/23"},
  };
  for (const auto& [text, shown] : rows) {
    INFO(text);
    CHECK(hosts(text).to_string() == shown);
  }
  CHECK(HostSet().to_string() == "localhost");
}

TEST_CASE("malformed host lists are refused naming the entry", "[server]") {
  const std::vector<Failure> rows = {
      {"", {"host list '' is empty", "localhost is always allowed"}},
      {" ", {"host list ' ' is empty"}},
      {"a.example,,b.example", {"entry 2 of host list 'a.example,,b.example' is empty"}},
      {"127.1", {"entry '127.1' in host list '127.1' ends in a number"}},
      {"127.1/8", {"entry '127.1/8' in host list '127.1/8': '127.1' ends in a number"}},
      {"0x7f.1", {"entry '0x7f.1'", "ends in a number"}},
      {"2130706433", {"entry '2130706433'", "ends in a number"}},
      {"1.2.3.4.5", {"entry '1.2.3.4.5'", "ends in a number"}},
      {"-bad-.com", {"entry '-bad-.com'", "starts or ends with '-'"}},
      {"db internal", {"entry 'db internal'", "has a character other than"}},
      {"10.0.0.1/8", {"block '10.0.0.1/8'", "has host bits set (did you mean '10.0.0.0/8'?)"}},
      {"192.168.1.0/23", {"did you mean '192.168.0.0/23'?"}},
      {"fd00::1/8", {"block 'fd00::1/8'", "did you mean 'fd00::/8'?"}},
      {"1.2.3.4/33", {"prefix length /33 of '1.2.3.4/33'", "out of range for IPv4 (0-32)"}},
      {"::/129", {"prefix length /129 of '::/129'", "out of range for IPv6 (0-128)"}},
      {"10.0.0.0/99999999999999999999", {"out of range for IPv4"}},
      {"10.0.0.0/", {"prefix length '' of '10.0.0.0/'", "is not a number"}},
      {"10.0.0.0/x", {"prefix length 'x'", "is not a number"}},
      {"10.0.0.0/-1", {"prefix length '-1'", "is not a number"}},
      {"10.0.0.0/8/8", {"prefix length '8/8'", "is not a number"}},
      {"fd00::/7", {"did you mean 'fc00::/7'?"}},
      {"db/8", {"entry 'db/8'", "puts a prefix length after a host name"}},
      {"[1.2.3.4]", {"entry '[1.2.3.4]'", "brackets, which are only for IPv6"}},
      {"[db]", {"entry '[db]'", "brackets, which are only for IPv6"}},
      {"[::1", {"entry '[::1'", "'[' without a matching ']'"}},
      {"[", {"entry '['", "without a matching ']'"}},
      {"::1]", {"entry '::1]'", "is not a valid IPv6 address"}},
      {"fe80::1%eth0", {"entry 'fe80::1%eth0'", "interface scope is not allowed"}},
      {"*", {"entry '*'", "there is no wildcard", "'0.0.0.0/0,::/0'"}},
      {"*.example", {"entry '*.example'", "has a character other than"}},
      {"db\0.evil"s, {"entry 'db\\x00.evil'"}},
      {std::string(300, 'a'), {"is longer than 253 bytes", "(300 bytes)"}},
  };
  for (const Failure& row : rows) {
    INFO("'" << row.text << "'");
    std::string error;
    CHECK_FALSE(HostSet::parse(row.text, &error).has_value());
    INFO("error: " << error);
    for (const std::string& part : row.says) CHECK(error.find(part) != std::string::npos);
    CHECK(printable_ascii(error));
  }
  CHECK_FALSE(HostSet::parse("", nullptr).has_value());
}

// ---- check_host ---------------------------------------------------------------------------

TEST_CASE("check_host allows listed names, localhost and literals in blocks", "[server]") {
  const HostSet set = hosts("db.internal,10.0.0.0/8,fd00::/8");
  const std::string refused =
      " is not allowed by this server (allowed: localhost, db.internal, 10.0.0.0/8, fd00::/8)";
  struct Row {
    std::string host;
    bool allowed;
  };
  const std::vector<Row> rows = {
      {"localhost", true},
      {"LOCALHOST", true},
      {"localhost.", true},
      {"db.internal", true},
      {"DB.INTERNAL.", true},
      {"10.1.2.3", true},
      {"10.0.0.0", true},
      {"10.255.255.255", true},
      {"127.0.0.1", true},
      {"127.255.255.254", true},
      {"::1", true},
      {"fd00::5", true},
      {"FDFF:ffff::1", true},
      {"::ffff:127.0.0.1", true},
      {"::ffff:10.0.0.5", true},
      {"other.internal", false},
      {"db.internal.evil", false},
      {"evil.db.internal", false},
      {"internal", false},
      {"11.0.0.1", false},
      {"9.255.255.255", false},
      {"fe80::1", false},
      {"fe00::1", false},
      {"0.0.0.0", false},
      {"::", false},
      {"::ffff:11.0.0.1", false},
      {"::2", false},
      {"localhost.localdomain", false},
      {"foo.localhost", false},
      {"localhostx", false},
      {"::ffff:7f00:1", true},
      {"::127.0.0.1", false},
  };
  for (const Row& row : rows) {
    INFO(row.host);
    const Decision decision = set.check_host(row.host);
    CHECK(decision.allowed() == row.allowed);
    if (row.allowed) {
      CHECK(decision.refusal == Refusal::none);
      CHECK(decision.reason.empty());
    } else {
      CHECK(decision.refusal == Refusal::host_not_allowed);
      CHECK(decision.reason == "host '" + row.host + "'" + refused);
    }
  }
}

TEST_CASE("check_host refuses malformed text before it can reach getaddrinfo", "[server]") {
  const HostSet set = hosts("db.internal,0.0.0.0/0,::/0");
  const std::vector<std::string> rows = {
      "127.1",
      "0x7f.1",
      "0x7f000001",
      "2130706433",
      "0177.0.0.1",
      "010.0.0.1",
      "1.2.3.4.5",
      "127.0.0.1.",
      "[::1]",
      "fe80::1%eth0",
      "fe80::1%1",
      "-bad-.com",
      "",
      "db.internal..",
      ".db.internal",
      "db internal",
      " db.internal",
      "db.internal\0.evil"s,
      "db.internal\0"s,
      "localhost\n",
      "bücher.de",
      std::string(300, 'a'),
      "1.2.3.4:80",
      "db.internal:80",
      "*",
      "db_internal",
      "::ffff:01.2.3.4",
      "127.0.0.1/8",
  };
  for (const std::string& host : rows) {
    INFO("'" << host << "'");
    const Decision decision = set.check_host(host);
    CHECK_FALSE(decision.allowed());
    CHECK(decision.refusal == Refusal::host_not_allowed);
    CHECK(decision.reason.find("is not a valid host name or address") != std::string::npos);
    CHECK(decision.reason.rfind("host '", 0) == 0);
    CHECK(printable_ascii(decision.reason));
    CHECK(decision.reason.size() <= 255);
  }
  CHECK(set.check_host("127.1").reason == "host '127.1' is not a valid host name or address");
  CHECK(set.check_host("db.internal\0.evil"s).reason ==
        "host 'db.internal\\x00.evil' is not a valid host name or address");
}

TEST_CASE("a default host set allows only localhost and loopback", "[server]") {
  const HostSet set;
  CHECK(set.check_host("localhost").allowed());
  CHECK(set.check_host("127.0.0.1").allowed());
  CHECK(set.check_host("::1").allowed());
  const Decision refused = set.check_host("10.0.0.1");
  CHECK(refused.refusal == Refusal::host_not_allowed);
  CHECK(refused.reason == "host '10.0.0.1' is not allowed by this server (allowed: localhost)");
}

TEST_CASE("CIDR edges: /0, /32, /128 and a prefix across a byte", "[server]") {
  struct Row {
    std::string list;
    std::string host;
    bool allowed;
  };
  const std::vector<Row> rows = {
      {"0.0.0.0/0", "1.2.3.4", true},
      {"0.0.0.0/0", "255.255.255.255", true},
      {"0.0.0.0/0", "2001:db8::1", false},
      {"0.0.0.0/0", "::ffff:1.2.3.4", true},
      {"::/0", "2001:db8::1", true},
      {"::/0", "1.2.3.4", false},
      {"::/0", "::ffff:1.2.3.4", false},
      {"1.2.3.4/32", "1.2.3.4", true},
      {"1.2.3.4/32", "1.2.3.5", false},
      {"1.2.3.4", "1.2.3.3", false},
      {"fd00::5/128", "fd00::5", true},
      {"fd00::5/128", "fd00::4", false},
      {"192.168.0.0/23", "192.168.1.255", true},
      {"192.168.0.0/23", "192.168.2.0", false},
      {"192.168.0.0/23", "192.167.255.255", false},
      {"10.0.0.0/9", "10.127.255.255", true},
      {"10.0.0.0/9", "10.128.0.0", false},
      {"fc00::/7", "fd00::1", true},
      {"fd00::/8", "fc00::1", false},
      {"::ffff:10.0.0.0/104", "10.9.9.9", true},
      {"2001:db8::/33", "2001:db8:7fff::1", true},
      {"2001:db8::/33", "2001:db8:8000::1", false},
  };
  for (const Row& row : rows) {
    INFO(row.list << " vs " << row.host);
    CHECK(hosts(row.list).check_host(row.host).allowed() == row.allowed);
  }
}

TEST_CASE("a refusal stays within a str8 however long the allowed list is", "[server]") {
  std::string list;
  for (int i = 0; i < 100; ++i) list += "host-number-" + std::to_string(i) + ".example.com,";
  list += "10.0.0.0/8";
  const HostSet set = hosts(list);
  const Decision decision = set.check_host(std::string(60, 'z') + ".example.com");
  CHECK(decision.refusal == Refusal::host_not_allowed);
  CHECK(decision.reason.size() <= 255);
  CHECK(decision.reason.find("(allowed: localhost, host-number-") != std::string::npos);
  CHECK(decision.reason.substr(decision.reason.size() - 5) == ",...)");
  CHECK(printable_ascii(decision.reason));

  std::string port_list;
  for (int port = 1; port < 2000; port += 2) port_list += std::to_string(port) + ",";
  port_list += "65535";
  const Policy policy{ports(port_list), HostSet()};
  const Decision port_refusal = policy.check("localhost", 2);
  CHECK(port_refusal.refusal == Refusal::port_not_allowed);
  CHECK(port_refusal.reason.size() <= 255);
  CHECK(port_refusal.reason.rfind("port 2 is not allowed by this server (allowed: 1,3,5,", 0) == 0);
  CHECK(port_refusal.reason.substr(port_refusal.reason.size() - 5) == ",...)");
}

// ---- allows_address -----------------------------------------------------------------------

TEST_CASE("allows_address: localhost only on loopback, listed names anywhere, literals exactly",
          "[server]") {
  const HostSet set = hosts("db.internal,10.0.0.0/8");
  struct Row {
    std::string host;
    std::string resolved;
    bool allowed;
  };
  const std::vector<Row> rows = {
      {"localhost", "127.0.0.1:0", true},
      {"localhost", "127.3.4.5:80", true},
      {"localhost", "[::1]:0", true},
      {"localhost", "[::ffff:127.0.0.1]:0", true},
      {"localhost", "10.0.0.1:0", false},
      {"localhost", "8.8.8.8:0", false},
      {"localhost", "[::ffff:8.8.8.8]:0", false},
      {"localhost", "[::2]:0", false},
      {"LOCALHOST.", "0.0.0.0:0", false},
      {"LOCALHOST.", "127.0.0.1:0", true},
      {"db.internal", "8.8.8.8:0", true},
      {"DB.internal.", "[2001:db8::1]:0", true},
      {"other.internal", "10.0.0.1:0", false},
      {"10.0.0.5", "10.0.0.5:0", true},
      {"10.0.0.5", "10.0.0.5:9999", true},
      {"10.0.0.5", "10.0.0.6:0", false},
      {"10.0.0.5", "[::ffff:10.0.0.5]:0", true},
      {"::ffff:10.0.0.5", "10.0.0.5:0", true},
      {"11.0.0.1", "11.0.0.1:0", false},
      {"127.0.0.1", "127.0.0.1:0", true},
      {"::1", "[::1]:0", true},
      {"::1", "127.0.0.1:0", false},
      {"127.1", "127.0.0.1:0", false},
      {"0x7f.1", "127.0.0.1:0", false},
      {"", "127.0.0.1:0", false},
      {"db.internal\0"s, "10.0.0.1:0", false},
  };
  for (const Row& row : rows) {
    INFO(row.host << " -> " << row.resolved);
    CHECK(set.allows_address(row.host, address(row.resolved)) == row.allowed);
  }
  CHECK_FALSE(set.allows_address("db.internal", SocketAddress()));
  CHECK_FALSE(set.allows_address("localhost", SocketAddress()));
}

TEST_CASE("listing localhost does not let it resolve off the machine", "[server]") {
  const HostSet set = hosts("localhost,LOCALHOST.");
  CHECK(set.to_string() == "localhost");
  CHECK(set.check_host("localhost").allowed());
  CHECK_FALSE(set.allows_address("localhost", address("8.8.8.8:0")));
  CHECK(set.allows_address("localhost", address("127.0.0.1:0")));
}

// ---- Policy -------------------------------------------------------------------------------

TEST_CASE("Policy checks the host, then the port", "[server]") {
  const Policy policy{ports("5432,6379"), hosts("db.internal")};
  CHECK(policy.check("localhost", 5432).allowed());
  CHECK(policy.check("db.internal", 6379).allowed());

  const Decision port = policy.check("localhost", 22);
  CHECK(port.refusal == Refusal::port_not_allowed);
  CHECK(port.reason == "port 22 is not allowed by this server (allowed: 5432,6379)");

  const Decision host = policy.check("elsewhere.example", 22);
  CHECK(host.refusal == Refusal::host_not_allowed);
  CHECK(host.reason ==
        "host 'elsewhere.example' is not allowed by this server (allowed: localhost, "
        "db.internal)");

  const Decision malformed = policy.check("127.1", 5432);
  CHECK(malformed.refusal == Refusal::host_not_allowed);

  const Decision zero = policy.check("localhost", 0);
  CHECK(zero.refusal == Refusal::port_not_allowed);
  CHECK(zero.reason.find("port 0") != std::string::npos);

  CHECK(policy.to_string() == "ports: 5432,6379; hosts: localhost, db.internal");
}

TEST_CASE("a default Policy allows every port on localhost", "[server]") {
  const Policy policy;
  CHECK(policy.check("localhost", 1).allowed());
  CHECK(policy.check("localhost", 65535).allowed());
  CHECK(static_cast<bool>(policy.check("127.0.0.1", 22)));
  CHECK(policy.check("localhost", 0).refusal == Refusal::port_not_allowed);
  CHECK(policy.check("10.0.0.1", 22).refusal == Refusal::host_not_allowed);
  CHECK(policy.to_string() == "ports: every port; hosts: localhost");
}
