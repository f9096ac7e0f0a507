// SPDX-License-Identifier: MIT
// ForwardSpec, ExposeSpec and classify_host: every -L and -R rule, hostile text, error wording,
// round trips.
#include "ringtunnel/tunnel_spec.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

using ringtunnel::classify_host;
using ringtunnel::ExposeSpec;
using ringtunnel::ForwardSpec;
using ringtunnel::HostKind;
using ringtunnel::parse_expose_spec;
using ringtunnel::parse_forward_spec;
using ringtunnel::ProxyProtocol;
using ringtunnel::TransportProtocol;
using namespace std::string_literals;

namespace {

constexpr auto kTcp = TransportProtocol::tcp;
constexpr auto kUdp = TransportProtocol::udp;

bool printable_ascii(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

struct Valid {
  std::string text;
  std::string default_bind;
  ForwardSpec expected;
  std::string name;
};

const std::vector<Valid>& valid_specs() {
  static const std::vector<Valid> rows = {
      {"15432:5432",
       "localhost",
       {"localhost", 15432, "localhost", 5432, kTcp},
       "localhost:15432:localhost:5432"},
      {"127.0.0.1:15432:5432",
       "localhost",
       {"127.0.0.1", 15432, "localhost", 5432, kTcp},
       "127.0.0.1:15432:localhost:5432"},
      {"15432:db.internal:5432",
       "localhost",
       {"localhost", 15432, "db.internal", 5432, kTcp},
       "localhost:15432:db.internal:5432"},
      {"0.0.0.0:8080:10.0.0.5:80",
       "localhost",
       {"0.0.0.0", 8080, "10.0.0.5", 80, kTcp},
       "0.0.0.0:8080:10.0.0.5:80"},
      {"[::1]:15432:[fd00::5]:5432",
       "localhost",
       {"::1", 15432, "fd00::5", 5432, kTcp},
       "[::1]:15432:[fd00::5]:5432"},
      {"5353:53:udp",
       "localhost",
       {"localhost", 5353, "localhost", 53, kUdp},
       "localhost:5353:localhost:53:udp"},
      {"5353:53:UDP",
       "localhost",
       {"localhost", 5353, "localhost", 53, kUdp},
       "localhost:5353:localhost:53:udp"},
      {"80:80:Tcp",
       "localhost",
       {"localhost", 80, "localhost", 80, kTcp},
       "localhost:80:localhost:80"},
      {"*:8080:80",
       "localhost",
       {"0.0.0.0", 8080, "localhost", 80, kTcp},
       "0.0.0.0:8080:localhost:80"},
      {"0:5432",
       "localhost",
       {"localhost", 0, "localhost", 5432, kTcp},
       "localhost:0:localhost:5432"},
      {"65535:65535",
       "localhost",
       {"localhost", 65535, "localhost", 65535, kTcp},
       "localhost:65535:localhost:65535"},
      {"0080:00080",
       "localhost",
       {"localhost", 80, "localhost", 80, kTcp},
       "localhost:80:localhost:80"},
      {"1:DB.Internal.:2",
       "localhost",
       {"localhost", 1, "db.internal.", 2, kTcp},
       "localhost:1:db.internal.:2"},
      {"LOCALHOST:1:LOCALHOST:2",
       "localhost",
       {"localhost", 1, "localhost", 2, kTcp},
       "localhost:1:localhost:2"},
      {"[fe80::1%eth0]:80:80",
       "localhost",
       {"fe80::1%eth0", 80, "localhost", 80, kTcp},
       "[fe80::1%eth0]:80:localhost:80"},
      {"[FD00:0:0::5]:1:2",
       "localhost",
       {"fd00::5", 1, "localhost", 2, kTcp},
       "[fd00::5]:1:localhost:2"},
      {"8080:[::ffff:10.0.0.5]:80",
       "localhost",
       {"localhost", 8080, "::ffff:10.0.0.5", 80, kTcp},
       "localhost:8080:[::ffff:10.0.0.5]:80"},
      {"8080:xn--bcher-kva.example:80:udp",
       "localhost",
       {"localhost", 8080, "xn--bcher-kva.example", 80, kUdp},
       "localhost:8080:xn--bcher-kva.example:80:udp"},
      {"host-1:1:a1.b-2.c3:2",
       "localhost",
       {"host-1", 1, "a1.b-2.c3", 2, kTcp},
       "host-1:1:a1.b-2.c3:2"},
      {"tcp:1:2", "localhost", {"tcp", 1, "localhost", 2, kTcp}, "tcp:1:localhost:2"},
      // The default bind address (--bind), bare or bracketed IPv6 allowed there.
      {"15432:5432",
       "0.0.0.0",
       {"0.0.0.0", 15432, "localhost", 5432, kTcp},
       "0.0.0.0:15432:localhost:5432"},
      {"15432:5432",
       "*",
       {"0.0.0.0", 15432, "localhost", 5432, kTcp},
       "0.0.0.0:15432:localhost:5432"},
      {"15432:5432", "::1", {"::1", 15432, "localhost", 5432, kTcp}, "[::1]:15432:localhost:5432"},
      {"15432:5432",
       "[::1]",
       {"::1", 15432, "localhost", 5432, kTcp},
       "[::1]:15432:localhost:5432"},
      {"15432:db:5432",
       "Edge.Example",
       {"edge.example", 15432, "db", 5432, kTcp},
       "edge.example:15432:db:5432"},
      {"10.0.0.1:15432:5432",
       "::1",
       {"10.0.0.1", 15432, "localhost", 5432, kTcp},
       "10.0.0.1:15432:localhost:5432"},
  };
  return rows;
}

}  // namespace

TEST_CASE("valid -L specs parse to the expected fields and canonical name", "[config]") {
  for (const Valid& row : valid_specs()) {
    INFO("-L " << row.text << " --bind " << row.default_bind);
    std::string error;
    const auto spec = parse_forward_spec(row.text, row.default_bind, &error);
    REQUIRE(spec.has_value());
    CHECK(error.empty());
    CHECK(spec->bind_host == row.expected.bind_host);
    CHECK(spec->local_port == row.expected.local_port);
    CHECK(spec->target_host == row.expected.target_host);
    CHECK(spec->target_port == row.expected.target_port);
    CHECK(spec->protocol == row.expected.protocol);
    CHECK(spec->name() == row.name);
  }
}

TEST_CASE("parsing a spec's name gives the same spec, whatever --bind is", "[config]") {
  for (const Valid& row : valid_specs()) {
    INFO(row.text);
    const auto spec = parse_forward_spec(row.text, row.default_bind, nullptr);
    REQUIRE(spec.has_value());
    for (const char* other_bind : {"localhost", "0.0.0.0", "::1"}) {
      std::string error;
      const auto again = parse_forward_spec(spec->name(), other_bind, &error);
      INFO(error);
      REQUIRE(again.has_value());
      CHECK(*again == *spec);
      CHECK(again->name() == spec->name());
    }
  }
}

TEST_CASE("the longest host name and label are accepted", "[config]") {
  const std::string label(63, 'a');
  // 63*3 + 61 + 3 dots = 253 bytes.
  const std::string host = label + "." + label + "." + label + "." + std::string(61, 'b');
  REQUIRE(host.size() == 253);
  const auto spec = parse_forward_spec("1:" + host + ":2", "localhost", nullptr);
  REQUIRE(spec.has_value());
  CHECK(spec->target_host == host);
  CHECK(parse_forward_spec("1:" + host + ".:2", "localhost", nullptr).has_value());
}

namespace {
struct Invalid {
  std::string text;
  std::string default_bind;
  std::vector<std::string> says;  // substrings of the error, beyond the "-L '...': " prefix
};
}  // namespace

TEST_CASE("invalid -L specs are refused with a sentence naming the part", "[config]") {
  const std::string long_label(64, 'a');
  const std::string long_name = std::string(63, 'a') + "." + std::string(63, 'a') + "." +
                                std::string(63, 'a') + "." + std::string(62, 'a');
  const std::vector<Invalid> rows = {
      {"", "localhost", {"the spec is empty", "e.g. '15432:5432'"}},
      {"15432", "localhost", {"is missing the remote port"}},
      {"udp", "localhost", {"is missing the remote port"}},
      {"5353:udp", "localhost", {"is missing the remote port"}},
      // Ports.
      {"15432:db:70000", "localhost", {"remote port 70000 is out of range (1-65535)"}},
      {"15432:0", "localhost", {"remote port 0 is out of range (1-65535)"}},
      {"65536:80", "localhost", {"local port 65536 is out of range (0-65535)"}},
      {"99999999999999999999999:80",
       "localhost",
       {"local port '99999999999999999999999' is out of range (0-65535)"}},
      {"4294967376:80", "localhost", {"local port 4294967376 is out of range"}},
      {"+80:80", "localhost", {"local port '+80' is not a number"}},
      {"-1:80", "localhost", {"local port '-1' is not a number"}},
      {"80:0x50", "localhost", {"remote port '0x50' is not a number"}},
      {"5353:53:sctp", "localhost", {"remote port 'sctp' is not a number", "':udp'"}},
      {"5353:53/udp", "localhost", {"remote port '53/udp' is not a number"}},
      {"[80]:80", "localhost", {"local port '[80]' is not a number"}},
      {"80:80:", "localhost", {"remote port is empty"}},
      {":80:80", "localhost", {"bind address is empty"}},
      {"80::80", "localhost", {"'::' outside brackets"}},
      {"a:b:c:d", "localhost", {"local port 'b' is not a number"}},
      // Bytes that never belong in a spec.
      {"80: 80", "localhost", {"contains a space at byte 4"}},
      {"80:80\t", "localhost", {"contains a control character at byte 6"}},
      {"80:80\0evil"s, "localhost", {"contains a control character at byte 6", "\\x00"}},
      {"80:db\x1b[31m:80", "localhost", {"control character at byte 6", "\\x1b"}},
      {"80:bücher.de:80", "localhost", {"non-ASCII byte at byte 5", "xn--"}},
      {std::string(513, '1'), "localhost", {"longer than 512 bytes", "(513 bytes)"}},
      // Structure and brackets.
      {"1:2:3:4:5", "localhost", {"too many ':'-separated parts", "brackets"}},
      {"1:2:3:4:5:6:7:8:9", "localhost", {"too many ':'-separated parts"}},
      {"localhost:80:db:80:udp:tcp", "localhost", {"too many ':'-separated parts"}},
      {"::1:15432:5432", "localhost", {"'::' outside brackets", "'[::1]:15432:5432'"}},
      {"::1:5432", "localhost", {"'::' outside brackets"}},
      {"fd00:1:2:3:4:5:6:7:80:80", "localhost", {"too many ':'-separated parts"}},
      {"[::1:15432:5432", "localhost", {"'[' at byte 1 has no matching ']'"}},
      {"80:[::1:80", "localhost", {"'[' at byte 4 has no matching ']'"}},
      {"1]:80:80", "localhost", {"part '1]' has an unbalanced bracket"}},
      {"a[b:80:80", "localhost", {"part 'a[b' has an unbalanced bracket"}},
      {"[::1]x:80:80", "localhost", {"expected ':' after '[::1]' but found 'x:80:80'"}},
      {"[[::1]]:80:80", "localhost", {"expected ':' after '[[::1]'"}},
      {"[]:80:80", "localhost", {"bind address '[]' has no address between '[' and ']'"}},
      {"[127.0.0.1]:80:80",
       "localhost",
       {"bind address '[127.0.0.1]' is not a valid IPv6 address", "only for IPv6"}},
      {"80:[db]:80", "localhost", {"target host '[db]' is not a valid IPv6 address"}},
      {"[::g]:80:80", "localhost", {"bind address '[::g]' is not a valid IPv6 address"}},
      {"[1:2:3:4:5:6:7:8:9]:80:80", "localhost", {"is not a valid IPv6 address"}},
      // Scopes: only on the bind address, and well-formed.
      {"80:[fe80::1%eth0]:80",
       "localhost",
       {"target host '[fe80::1%eth0]' has an interface scope", "only the bind address"}},
      {"[fe80::1%]:80:80", "localhost", {"bind address '[fe80::1%]' has an invalid interface"}},
      {"[fe80::1%a/b]:80:80", "localhost", {"has an invalid interface name"}},
      {"[fe80::1%aaaaaaaaaaaaaaaa]:80:80", "localhost", {"has an invalid interface name"}},
      {"[%eth0]:80:80", "localhost", {"bind address '[%eth0]' has no address"}},
      {"fe80%eth0:80:80", "localhost", {"bind address 'fe80%eth0' has a character other than"}},
      // Host names and IPv4 literals.
      {"80:1.2.3.4.5:80", "localhost", {"target host '1.2.3.4.5' ends in a number"}},
      {"80:0x7f.1:80", "localhost", {"target host '0x7f.1' ends in a number"}},
      {"80:127.1:80", "localhost", {"target host '127.1' ends in a number", "'127.0.0.1'"}},
      {"80:2130706433:80", "localhost", {"target host '2130706433' ends in a number"}},
      {"80:0x7f000001:80", "localhost", {"target host '0x7f000001' ends in a number"}},
      {"80:0177.0.0.1:80", "localhost", {"target host '0177.0.0.1' ends in a number"}},
      {"80:010.0.0.1:80", "localhost", {"target host '010.0.0.1' ends in a number"}},
      {"80:256.0.0.1:80", "localhost", {"target host '256.0.0.1' ends in a number"}},
      {"80:127.0.0.1.:80", "localhost", {"target host '127.0.0.1.' ends in a number"}},
      {"80:db.0x1:80", "localhost", {"target host 'db.0x1' ends in a number"}},
      {"80:db.123:80", "localhost", {"target host 'db.123' ends in a number"}},
      {"80:-bad-.com:80", "localhost", {"target host '-bad-.com' has a label that starts or ends"}},
      {"80:bad-.com:80", "localhost", {"has a label that starts or ends with '-'"}},
      {"80:a..b:80", "localhost", {"target host 'a..b' has an empty label"}},
      {"80:.a:80", "localhost", {"target host '.a' has an empty label"}},
      {"80:a..:80", "localhost", {"target host 'a..' has an empty label"}},
      {"80:a_b:80", "localhost", {"target host 'a_b' has a character other than letters"}},
      {"80:db.internal/24:80", "localhost", {"has a character other than letters"}},
      {"80:" + long_label + ".com:80", "localhost", {"has a label longer than 63 bytes"}},
      {"80:" + long_name + ":80", "localhost", {"is longer than 253 bytes"}},
      {"80:*:80", "localhost", {"target host '*' is not a host", "bind address"}},
      {"80:0.0.0.0:80", "localhost", {"target host '0.0.0.0' is the unspecified address"}},
      {"80:[::]:80", "localhost", {"target host '[::]' is the unspecified address"}},
      {"80:[0:0::0]:80", "localhost", {"is the unspecified address"}},
      {"*.example:80:80", "localhost", {"bind address '*.example' has a character other than"}},
      {"-bad-:80:80", "localhost", {"bind address '-bad-' has a label that starts or ends"}},
      // The --bind value is checked like a BIND part, and named as coming from --bind.
      {"80:80", "", {"bind address (from --bind) is empty"}},
      {"80:80", "bad host", {"bind address (from --bind) 'bad host' has a character other than"}},
      {"80:80", "127.1", {"bind address (from --bind) '127.1' ends in a number"}},
      {"80:80", "[::1", {"bind address (from --bind) '[::1' is not a valid IPv6 address"}},
      {"80:80", "127.0.0.1\0x"s, {"bind address (from --bind) '127.0.0.1\\x00x'"}},
      {"80:80", "::1\0x"s, {"bind address (from --bind)", "is not a valid IPv6 address"}},
      {"80:80", "[fe80::1%]", {"has an invalid interface name"}},
  };
  for (const Invalid& row : rows) {
    INFO("-L '" << row.text << "' --bind '" << row.default_bind << "'");
    std::string error;
    CHECK_FALSE(parse_forward_spec(row.text, row.default_bind, &error).has_value());
    INFO("error: " << error);
    CHECK(error.rfind("-L '", 0) == 0);
    for (const std::string& part : row.says) CHECK(error.find(part) != std::string::npos);
    CHECK(printable_ascii(error));
    CHECK(error.size() < 400);
  }
}

TEST_CASE("an error repeats the whole -L text when it is short", "[config]") {
  std::string error;
  CHECK_FALSE(parse_forward_spec("15432:db:70000", "localhost", &error).has_value());
  CHECK(error == "-L '15432:db:70000': remote port 70000 is out of range (1-65535)");
  CHECK_FALSE(parse_forward_spec("80:-bad-.com:80", "localhost", &error).has_value());
  CHECK(error ==
        "-L '80:-bad-.com:80': target host '-bad-.com' has a label that starts or "
        "ends with '-'");
}

TEST_CASE("a null error pointer is fine", "[config]") {
  CHECK_FALSE(parse_forward_spec("nope", "localhost", nullptr).has_value());
  CHECK(parse_forward_spec("1:2", "localhost", nullptr).has_value());
}

TEST_CASE("a spec of exactly 512 bytes is read, one more byte is refused", "[config]") {
  // Zero-padded decimal ports are allowed, which makes a long spec that is otherwise valid.
  const std::string at_limit = std::string(506, '0') + "1:db:3";
  REQUIRE(at_limit.size() == 512);
  std::string error;
  const auto spec = parse_forward_spec(at_limit, "localhost", &error);
  REQUIRE(spec.has_value());
  CHECK(spec->name() == "localhost:1:db:3");
  const std::string over = "0" + at_limit;
  CHECK_FALSE(parse_forward_spec(over, "localhost", &error).has_value());
  CHECK(error.find("longer than 512 bytes") != std::string::npos);
  CHECK(error.find("(513 bytes)") != std::string::npos);
}

TEST_CASE("classify_host sorts names, strict literals and everything else", "[config]") {
  struct Row {
    std::string host;
    HostKind kind;
  };
  const std::vector<Row> rows = {
      {"localhost", HostKind::name},
      {"LOCALHOST.", HostKind::name},
      {"db.internal", HostKind::name},
      {"1e5", HostKind::name},
      {"0x1g", HostKind::name},
      {"a", HostKind::name},
      {"127.0.0.1", HostKind::ipv4},
      {"0.0.0.0", HostKind::ipv4},
      {"255.255.255.255", HostKind::ipv4},
      {"::1", HostKind::ipv6},
      {"::ffff:127.0.0.1", HostKind::ipv6},
      {"FD00::5", HostKind::ipv6},
      {"", HostKind::invalid},
      {".", HostKind::invalid},
      {"..", HostKind::invalid},
      {"[::1]", HostKind::invalid},
      {"fe80::1%lo", HostKind::invalid},
      {"127.1", HostKind::invalid},
      {"0x7f.1", HostKind::invalid},
      {"0x7f000001", HostKind::invalid},
      {"0X7F", HostKind::invalid},
      {"0x", HostKind::invalid},
      {"2130706433", HostKind::invalid},
      {"1.2.3.4.5", HostKind::invalid},
      {"1-2", HostKind::invalid},
      {"127.0.0.1 ", HostKind::invalid},
      {"127.0.0.1\0"s, HostKind::invalid},
      {"127.0.0.1\0.evil.com"s, HostKind::invalid},
      {"::1\0"s, HostKind::invalid},
      {"localhost\n", HostKind::invalid},
      {"-bad-.com", HostKind::invalid},
      {"::ffff:01.2.3.4", HostKind::invalid},
      {std::string(300, 'a'), HostKind::invalid},
  };
  for (const Row& row : rows) {
    INFO("'" << row.host << "'");
    std::string_view why = "unset";
    CHECK(classify_host(row.host, &why) == row.kind);
    CHECK(why.empty() == (row.kind != HostKind::invalid));
  }
}

TEST_CASE("no text classify_host calls a name is an address to inet_aton", "[config]") {
  // getaddrinfo tries inet_aton before DNS: a "name" it would read as an address could reach
  // a host the policy never listed. Shorthand forms, hex, octal, and near misses.
  const std::vector<std::string> texts = {
      "127.1",        "0x7f.1", "0x7f.0.0.1", "0177.1",     "1",          "0",     "0x0",
      "00",           "1.2.3",  "1.2.3.4.",   "0xffffffff", "4294967295", "1.0x2", "1.2.0x3",
      "0x1.a",        "a.0x1",  "1e5",        "0x1g",       "db",         "db.1a", "x.y.z",
      "1.2.3.4a",     "0xg",    "08.1",       "09",         "0x.1",       "1.",    "a.1.",
      "db.internal.",
  };
  for (const std::string& text : texts) {
    INFO(text);
    in_addr addr{};
    if (classify_host(text) == HostKind::name) CHECK(::inet_aton(text.c_str(), &addr) == 0);
  }
}

TEST_CASE("to_string names the protocols", "[config]") {
  CHECK(to_string(TransportProtocol::tcp) == "tcp");
  CHECK(to_string(TransportProtocol::udp) == "udp");
}

// ---- -R ------------------------------------------------------------------------------------

namespace {

constexpr auto kNoProxy = ProxyProtocol::none;
constexpr auto kV2 = ProxyProtocol::v2;

struct ValidExpose {
  std::string text;
  ExposeSpec expected;
  std::string name;
};

const std::vector<ValidExpose>& valid_exposes() {
  static const std::vector<ValidExpose> rows = {
      {"8080:3000", {"", 8080, "localhost", 3000, kTcp, kNoProxy}, "8080:localhost:3000"},
      {"8080:localhost:3000", {"", 8080, "localhost", 3000, kTcp, kNoProxy}, "8080:localhost:3000"},
      {"0.0.0.0:8080:3000",
       {"0.0.0.0", 8080, "localhost", 3000, kTcp, kNoProxy},
       "0.0.0.0:8080:localhost:3000"},
      {"*:8080:3000",
       {"0.0.0.0", 8080, "localhost", 3000, kTcp, kNoProxy},
       "0.0.0.0:8080:localhost:3000"},
      {"[::1]:8080:[::1]:3000",
       {"::1", 8080, "::1", 3000, kTcp, kNoProxy},
       "[::1]:8080:[::1]:3000"},
      {"[::]:8080:3000",
       {"::", 8080, "localhost", 3000, kTcp, kNoProxy},
       "[::]:8080:localhost:3000"},
      {"[FD00:0:0::5]:80:[::FFFF:10.0.0.5]:8080",
       {"fd00::5", 80, "::ffff:10.0.0.5", 8080, kTcp, kNoProxy},
       "[fd00::5]:80:[::ffff:10.0.0.5]:8080"},
      {"5353:53:udp", {"", 5353, "localhost", 53, kUdp, kNoProxy}, "5353:localhost:53:udp"},
      {"5353:53:UDP", {"", 5353, "localhost", 53, kUdp, kNoProxy}, "5353:localhost:53:udp"},
      {"8080:3000:Tcp", {"", 8080, "localhost", 3000, kTcp, kNoProxy}, "8080:localhost:3000"},
      {"8080:3000,proxy_protocol=v2",
       {"", 8080, "localhost", 3000, kTcp, kV2},
       "8080:localhost:3000,proxy_protocol=v2"},
      {"8080:3000:tcp,PROXY_PROTOCOL=V2",
       {"", 8080, "localhost", 3000, kTcp, kV2},
       "8080:localhost:3000,proxy_protocol=v2"},
      {"8080:3000,proxy_protocol=none",
       {"", 8080, "localhost", 3000, kTcp, kNoProxy},
       "8080:localhost:3000"},
      {"5353:53:udp,proxy_protocol=None",
       {"", 5353, "localhost", 53, kUdp, kNoProxy},
       "5353:localhost:53:udp"},
      {"[::1]:443:app.internal:8443,proxy_protocol=v2",
       {"::1", 443, "app.internal", 8443, kTcp, kV2},
       "[::1]:443:app.internal:8443,proxy_protocol=v2"},
      {"LocalHost:443:App.Internal.:8443",
       {"localhost", 443, "app.internal.", 8443, kTcp, kNoProxy},
       "localhost:443:app.internal.:8443"},
      {"10.0.0.1:80:10.0.0.5:8080",
       {"10.0.0.1", 80, "10.0.0.5", 8080, kTcp, kNoProxy},
       "10.0.0.1:80:10.0.0.5:8080"},
      {"1:1", {"", 1, "localhost", 1, kTcp, kNoProxy}, "1:localhost:1"},
      {"65535:65535", {"", 65535, "localhost", 65535, kTcp, kNoProxy}, "65535:localhost:65535"},
      {"0080:03000", {"", 80, "localhost", 3000, kTcp, kNoProxy}, "80:localhost:3000"},
  };
  return rows;
}

// The -R syntax as the messages write it.
const std::string kExposeSyntax =
    "[BIND:]PUBLIC_PORT:[LOCAL_HOST:]LOCAL_PORT[:tcp|:udp][,proxy_protocol=v2]";

}  // namespace

TEST_CASE("valid -R specs parse to the expected fields and canonical name", "[config]") {
  for (const ValidExpose& row : valid_exposes()) {
    INFO("-R " << row.text);
    std::string error;
    const auto spec = parse_expose_spec(row.text, &error);
    REQUIRE(spec.has_value());
    CHECK(error.empty());
    CHECK(spec->bind_host == row.expected.bind_host);
    CHECK(spec->public_port == row.expected.public_port);
    CHECK(spec->local_host == row.expected.local_host);
    CHECK(spec->local_port == row.expected.local_port);
    CHECK(spec->protocol == row.expected.protocol);
    CHECK(spec->proxy == row.expected.proxy);
    CHECK(*spec == row.expected);
    CHECK(spec->name() == row.name);
  }
}

TEST_CASE("parsing a -R spec's name gives the same spec", "[config]") {
  for (const ValidExpose& row : valid_exposes()) {
    INFO(row.text);
    const auto spec = parse_expose_spec(row.text, nullptr);
    REQUIRE(spec.has_value());
    std::string error;
    const auto again = parse_expose_spec(spec->name(), &error);
    INFO(error);
    REQUIRE(again.has_value());
    CHECK(*again == *spec);
    CHECK(again->name() == spec->name());
  }
}

TEST_CASE("invalid -R specs are refused with one exact sentence naming the part", "[config]") {
  struct Row {
    std::string text;
    std::string error;
  };
  const std::string expected = " (expected " + kExposeSyntax + ", e.g. '8080:3000')";
  const std::string options = " (the only option is proxy_protocol=v2 or proxy_protocol=none)";
  const std::string values = " (expected proxy_protocol=v2 or proxy_protocol=none)";
  const std::vector<Row> rows = {
      // Structure.
      {"", "-R '': the spec is empty" + expected},
      {"8080", "-R '8080': the spec is missing the local port" + expected},
      {"8080:udp", "-R '8080:udp': the spec is missing the local port" + expected},
      {",proxy_protocol=v2",
       "-R ',proxy_protocol=v2': the spec before the options is empty" + expected},
      {"1:2:3:4:5", "-R '1:2:3:4:5': the spec has too many ':'-separated parts (expected " +
                        kExposeSyntax + "; write IPv6 addresses in brackets, e.g. '[::1]')"},
      {"8080::3000",
       "-R '8080::3000': the spec has '::' outside brackets (write IPv6 addresses in brackets, "
       "e.g. '[::1]:8080:3000')"},
      {"[::1:8080:3000", "-R '[::1:8080:3000': the '[' at byte 1 has no matching ']'"},
      // Ports.
      {"70000:3000", "-R '70000:3000': public port 70000 is out of range (1-65535)"},
      {"0:3000", "-R '0:3000': public port 0 is out of range (1-65535)"},
      {"8080:0", "-R '8080:0': local port 0 is out of range (1-65535)"},
      {"8080:db:70000", "-R '8080:db:70000': local port 70000 is out of range (1-65535)"},
      {"+80:3000", "-R '+80:3000': public port '+80' is not a number"},
      {"8080:db:http",
       "-R '8080:db:http': local port 'http' is not a number (a protocol is written last, as "
       "':tcp' or ':udp')"},
      {"8080:3000:sctp",
       "-R '8080:3000:sctp': local port 'sctp' is not a number (a protocol is written last, as "
       "':tcp' or ':udp')"},
      {"8080:3000:", "-R '8080:3000:': local port is empty"},
      {":8080:3000", "-R ':8080:3000': bind address is empty"},
      {"8080::db:3000",
       "-R '8080::db:3000': the spec has '::' outside brackets (write IPv6 "
       "addresses in brackets, e.g. '[::1]:8080:3000')"},
      // Hosts.
      {"[fe80::1%eth0]:8080:3000",
       "-R '[fe80::1%eth0]:8080:3000': bind address '[fe80::1%eth0]' has an interface scope, "
       "which -R does not take (BIND names an address on the server)"},
      {"8080:[fe80::1%eth0]:3000",
       "-R '8080:[fe80::1%eth0]:3000': local host '[fe80::1%eth0]' has an interface scope, "
       "which -R does not take"},
      {"edge.example:443:3000",
       "-R 'edge.example:443:3000': bind address 'edge.example' must be an IP address (it names "
       "an address on the server)"},
      {"tcp:1:2", "-R 'tcp:1:2': bind address 'tcp' must be an IP address (it names an address "
                  "on the server)"},
      {"8080:0.0.0.0:3000",
       "-R '8080:0.0.0.0:3000': local host '0.0.0.0' is the unspecified address, which names no "
       "host to connect to (use 'localhost' or the host's address)"},
      {"8080:[::]:3000",
       "-R '8080:[::]:3000': local host '[::]' is the unspecified address, which names no host "
       "to connect to (use 'localhost' or the host's address)"},
      {"8080:*:3000",
       "-R '8080:*:3000': local host '*' is not a host ('*' means every interface, for the bind "
       "address)"},
      {"8080:127.1:3000",
       "-R '8080:127.1:3000': local host '127.1' ends in a number but is not an IPv4 address "
       "(write four decimal numbers, e.g. '127.0.0.1'; a name's last label needs a letter)"},
      {"8080:[db]:3000",
       "-R '8080:[db]:3000': local host '[db]' is not a valid IPv6 address (brackets are only "
       "for IPv6)"},
      {"bad_host:8080:3000",
       "-R 'bad_host:8080:3000': bind address 'bad_host' has a character other than letters, "
       "digits, '-' and '.'"},
      {"[127.0.0.1]:8080:3000",
       "-R '[127.0.0.1]:8080:3000': bind address '[127.0.0.1]' is not a valid IPv6 address "
       "(brackets are only for IPv6)"},
      {"[]:8080:3000", "-R '[]:8080:3000': bind address '[]' has no address between '[' and ']'"},
      // Options.
      {"8080:3000:udp,proxy_protocol=v2",
       "-R '8080:3000:udp,proxy_protocol=v2': proxy_protocol=v2 is for TCP tunnels only (PROXY "
       "v2 for UDP is not supported; drop the option or the ':udp')"},
      {"8080:3000,", "-R '8080:3000,': an option after ',' is empty" + options},
      {"8080:3000,,proxy_protocol=v2",
       "-R '8080:3000,,proxy_protocol=v2': an option after ',' is empty" + options},
      {"8080:3000,proxy_protocol=v2,",
       "-R '8080:3000,proxy_protocol=v2,': an option after ',' is empty" + options},
      {"8080:3000,foo=bar", "-R '8080:3000,foo=bar': unknown option 'foo=bar'" + options},
      {"8080:3000,proxy=v2", "-R '8080:3000,proxy=v2': unknown option 'proxy=v2'" + options},
      {"8080:3000,=v2", "-R '8080:3000,=v2': unknown option '=v2'" + options},
      {"8080:3000,proxy_protocol",
       "-R '8080:3000,proxy_protocol': option proxy_protocol has no value" + values},
      {"8080:3000,proxy_protocol=",
       "-R '8080:3000,proxy_protocol=': option proxy_protocol has no value" + values},
      {"8080:3000,proxy_protocol=v1",
       "-R '8080:3000,proxy_protocol=v1': proxy_protocol 'v1' is not a supported value" + values},
      {"8080:3000,proxy_protocol=v2:udp",
       "-R '8080:3000,proxy_protocol=v2:udp': proxy_protocol 'v2:udp' is not a supported value" +
           values},
      {"8080:3000,proxy_protocol=v2,proxy_protocol=v2",
       "-R '8080:3000,proxy_protocol=v2,proxy_protocol=v2': option proxy_protocol is given "
       "twice"},
      {"8080:3000,proxy_protocol=v2,proxy_protocol=none",
       "-R '8080:3000,proxy_protocol=v2,proxy_protocol=none': option proxy_protocol is given "
       "twice"},
      // Bytes that never belong in a spec, in the spec or its options.
      {"8080: 3000", "-R '8080: 3000': the spec contains a space at byte 6"},
      {"8080:3000\0evil"s,
       "-R '8080:3000\\x00evil': the spec contains a control character at byte 10"},
      {"8080:3000,proxy_protocol=v2\n",
       "-R '8080:3000,proxy_protocol=v2\\x0a': the spec contains a control character at byte 28"},
      {"8080:3000,\x1b[31m",
       "-R '8080:3000,\\x1b[31m': the spec contains a control character at byte 11"},
      {"8080:bücher.de:3000",
       "-R '8080:b\\xc3\\xbccher.de:3000': the spec contains a non-ASCII byte at byte 7 (write "
       "international host names in their 'xn--' form)"},
      {std::string(513, '1'),
       "-R '" + std::string(79, '1') + "...' (513 bytes): the spec is longer than 512 bytes"},
  };
  for (const Row& row : rows) {
    INFO("-R '" << row.text << "'");
    std::string error;
    CHECK_FALSE(parse_expose_spec(row.text, &error).has_value());
    CHECK(error == row.error);
    CHECK(printable_ascii(error));
  }
}

TEST_CASE("-R refuses what -L refuses in a host, with -R's part names", "[config]") {
  // The shared host checks: each -L target host error is the -R local host error.
  for (const char* host : {"1.2.3.4.5", "0x7f.1", "-bad-.com", "a..b", "a_b", "[::g]"}) {
    INFO(host);
    std::string forward_error, expose_error;
    const std::string spec = "1:" + std::string(host) + ":2";
    CHECK_FALSE(parse_forward_spec(spec, "localhost", &forward_error).has_value());
    CHECK_FALSE(parse_expose_spec(spec, &expose_error).has_value());
    const std::string forward_why = forward_error.substr(forward_error.find("target host ") + 12);
    const std::string expose_why = expose_error.substr(expose_error.find("local host ") + 11);
    CHECK(forward_why == expose_why);
  }
}

TEST_CASE("a -R spec of exactly 512 bytes is read, one more byte is refused", "[config]") {
  const std::string tail = "1:db:3,proxy_protocol=v2";
  const std::string at_limit = std::string(512 - tail.size(), '0') + tail;
  std::string error;
  const auto spec = parse_expose_spec(at_limit, &error);
  INFO(error);
  REQUIRE(spec.has_value());
  CHECK(spec->name() == "1:db:3,proxy_protocol=v2");
  CHECK_FALSE(parse_expose_spec("0" + at_limit, &error).has_value());
  CHECK(error.find("the spec is longer than 512 bytes") != std::string::npos);
  CHECK(error.find("(513 bytes)") != std::string::npos);
}

TEST_CASE("-R: a null error pointer is fine, and -L does not take -R's options", "[config]") {
  CHECK_FALSE(parse_expose_spec("nope", nullptr).has_value());
  CHECK(parse_expose_spec("1:2", nullptr).has_value());
  std::string error;
  CHECK_FALSE(parse_forward_spec("1:2,proxy_protocol=v2", "localhost", &error).has_value());
  CHECK(error == "-L '1:2,proxy_protocol=v2': remote port '2,proxy_protocol=v2' is not a number");
}
