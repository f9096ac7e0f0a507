// SPDX-License-Identifier: MIT
// effective_policy: flags over config.yaml over defaults; a bad value names the file and line.
#include "server/policy_settings.hpp"

#include <catch2/catch.hpp>

using namespace ringtunnel;
using namespace ringtunnel::server;

namespace {

config::ServerSettings file_with_ports(std::string ports, int line = 3) {
  config::ServerSettings settings;
  settings.allowed_ports = config::FileValue<std::string>{std::move(ports), line};
  return settings;
}

}  // namespace

TEST_CASE("without flags or file: every port, localhost only, 10 clients", "[server][policy]") {
  std::string error;
  auto effective = effective_policy({}, {}, &error);
  REQUIRE(effective);
  CHECK(effective->max_clients == 10);
  CHECK(effective->policy.check("localhost", 22));
  CHECK_FALSE(effective->policy.check("db.internal", 22));
  CHECK(effective->notes.empty());
}

TEST_CASE("the file sets what the flags leave open; flags win and say so", "[server][policy]") {
  PolicyFlags flags;
  flags.config_path = "/etc/rt/config.yaml";
  config::ServerSettings file = file_with_ports("5432");
  file.allowed_hosts = config::FileValue<std::string>{"db.internal", 4};
  file.max_clients = config::FileValue<unsigned>{3, 5};
  std::string error;
  auto from_file = effective_policy(flags, file, &error);
  REQUIRE(from_file);
  CHECK(from_file->policy.check("db.internal", 5432));
  CHECK_FALSE(from_file->policy.check("localhost", 22));
  CHECK(from_file->max_clients == 3);
  CHECK(from_file->notes.front() == "allowed ports from /etc/rt/config.yaml:3: server.allowed_ports");

  std::string why;
  flags.ports = PortSet::parse("22", &why);
  flags.max_clients = 7;
  auto with_flags = effective_policy(flags, file, &error);
  REQUIRE(with_flags);
  CHECK(with_flags->policy.check("localhost", 22));
  CHECK_FALSE(with_flags->policy.check("localhost", 5432));
  CHECK(with_flags->policy.check("db.internal", 22));  // hosts still from the file
  CHECK(with_flags->max_clients == 7);
  CHECK(with_flags->notes.front() ==
        "/etc/rt/config.yaml:3: server.allowed_ports is overridden by --allowed-ports");
}

TEST_CASE("a bad list in the file is an error naming its line; nothing is applied",
          "[server][policy]") {
  PolicyFlags flags;
  flags.config_path = "config.yaml";
  std::string error;
  CHECK_FALSE(effective_policy(flags, file_with_ports("1,70000", 9), &error));
  CHECK(error.starts_with("config.yaml:9: server.allowed_ports: port 70000"));
  config::ServerSettings hosts;
  hosts.allowed_hosts = config::FileValue<std::string>{"exa mple", 2};
  CHECK_FALSE(effective_policy(flags, hosts, &error));
  CHECK(error.starts_with("config.yaml:2: server.allowed_hosts: "));
}
