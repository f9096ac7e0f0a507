// SPDX-License-Identifier: MIT
// tunnel_name_for_host and is_tunnel_name: every routing rule, each way a Host names nothing.
#include "http/route.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

using ringtunnel::http::is_tunnel_name;
using ringtunnel::http::tunnel_name_for_host;

namespace {

struct Row {
  std::string host;
  std::string domain;
  std::optional<std::string> name;
};

}  // namespace

TEST_CASE("a Host under the domain, or a bare name, gives the tunnel name") {
  const std::vector<Row> rows = {
      {"app.example.com", "example.com", "app"},
      {"APP.Example.COM", "example.com", "app"},  // rule 3: case
      {"app.example.com", "EXAMPLE.com", "app"},
      {"app.example.com.", "example.com", "app"},  // rule 4: one trailing dot
      {"app.example.com", "example.com.", "app"},
      {"app.example.com:8080", "example.com", "app"},  // rule 2: port
      {"app.example.com.:443", "example.com", "app"},
      {"app.example.com:", "example.com", "app"},  // an empty port is still a port
      {"app", "example.com", "app"},               // rule 6: bare name
      {"App:80", "example.com", "app"},
      {"app.", "example.com", "app"},
      {"app", "", "app"},
      {"a", "example.com", "a"},
      {"0", "example.com", "0"},
      {"my-app-2", "example.com", "my-app-2"},
      {"xn--bcher-kva.example.com", "example.com", "xn--bcher-kva"},
      {std::string(63, 'a') + ".example.com", "example.com", std::string(63, 'a')},
      {"app.tunnels.example.com", "tunnels.example.com", "app"},
      {"app.localhost", "localhost", "app"},
  };
  for (const Row& row : rows) {
    INFO(row.host << " under " << row.domain);
    CHECK(tunnel_name_for_host(row.host, row.domain) == row.name);
  }
}

TEST_CASE("a Host that names no tunnel gives nullopt") {
  const std::vector<Row> rows = {
      {"", "example.com", std::nullopt},
      {":80", "example.com", std::nullopt},
      {".", "example.com", std::nullopt},
      {"example.com", "example.com", std::nullopt},  // the apex
      {"example.com.", "example.com", std::nullopt},
      {"localhost", "localhost", std::nullopt},
      {".example.com", "example.com", std::nullopt},     // empty label
      {"a.b.example.com", "example.com", std::nullopt},  // deeper
      {"a..example.com", "example.com", std::nullopt},
      {"app.example.com..", "example.com", std::nullopt},  // only one dot is dropped
      {"app.example.org", "example.com", std::nullopt},    // another domain
      {"app.notexample.com", "example.com", std::nullopt},
      {"appexample.com", "example.com", std::nullopt},
      {"app.example.com.evil.net", "example.com", std::nullopt},
      {"app.example.com", "", std::nullopt},      // no domain: bare names only
      {"10.0.0.1", "example.com", std::nullopt},  // IPv4
      {"10.0.0.1:80", "", std::nullopt},
      {"[::1]", "example.com", std::nullopt},  // rule 1: IPv6 literal
      {"[::1]:8080", "example.com", std::nullopt},
      {"::1", "example.com", std::nullopt},
      {"fe80::1", "example.com", std::nullopt},
      {"app.example.com:80x", "example.com", std::nullopt},  // bad port
      {"app.example.com:+80", "example.com", std::nullopt},
      {"app:80:80", "example.com", std::nullopt},
      {"-app.example.com", "example.com", std::nullopt},  // rule 7: label syntax
      {"app-.example.com", "example.com", std::nullopt},
      {"-", "example.com", std::nullopt},
      {"my_app.example.com", "example.com", std::nullopt},
      {"my_app", "example.com", std::nullopt},
      {"caf\xc3\xa9.example.com", "example.com", std::nullopt},
      {"app%2e.example.com", "example.com", std::nullopt},
      {" app.example.com", "example.com", std::nullopt},
      {"app.example.com ", "example.com", std::nullopt},
      {"app .example.com", "example.com", std::nullopt},
      {"a,b.example.com", "example.com", std::nullopt},
      {"app.example.com, other.example.com", "example.com", std::nullopt},
      {std::string(64, 'a') + ".example.com", "example.com", std::nullopt},
      {std::string(64, 'a'), "example.com", std::nullopt},
      {std::string("ap\0p", 4) + ".example.com", "example.com", std::nullopt},
      {"user@app.example.com", "example.com", std::nullopt},
  };
  for (const Row& row : rows) {
    INFO(row.host << " under " << row.domain);
    CHECK(tunnel_name_for_host(row.host, row.domain) == row.name);
  }
}

TEST_CASE("is_tunnel_name is the DNS label rule, lower-case") {
  CHECK(is_tunnel_name("a"));
  CHECK(is_tunnel_name("a-b-1"));
  CHECK(is_tunnel_name(std::string(63, 'z')));
  CHECK_FALSE(is_tunnel_name(""));
  CHECK_FALSE(is_tunnel_name(std::string(64, 'z')));
  CHECK_FALSE(is_tunnel_name("-a"));
  CHECK_FALSE(is_tunnel_name("a-"));
  CHECK_FALSE(is_tunnel_name("A"));
  CHECK_FALSE(is_tunnel_name("a.b"));
  CHECK_FALSE(is_tunnel_name("a_b"));
}
