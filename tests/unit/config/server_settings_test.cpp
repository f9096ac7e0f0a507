// SPDX-License-Identifier: MIT
// config.yaml's server: section: both list forms, the client limit, every error naming the file,
// line and key, warnings for unknown keys (with "did you mean") and keys not read yet.
#include "config/server_settings.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

using ringtunnel::config::load_server_settings;
using ringtunnel::config::ServerSettings;

namespace {

struct ConfigFile {
  std::string path;
  explicit ConfigFile(const std::string& text) {
    char pattern[] = "/tmp/rt-config-XXXXXX";
    const int fd = mkstemp(pattern);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = pattern;
    std::ofstream(path) << text;
  }
  ~ConfigFile() { std::remove(path.c_str()); }
};

std::string error_of(const std::string& text) {
  ConfigFile file(text);
  std::string error;
  CHECK_FALSE(load_server_settings(file.path, &error).has_value());
  // Every error starts with the file and the line.
  CHECK(error.rfind(file.path + ":", 0) == 0);
  return error.substr(file.path.size());
}

}  // namespace

TEST_CASE("no config file, an empty one, or one without server: sets nothing",
          "[config][settings]") {
  std::string error;
  auto missing = load_server_settings("/tmp/rt-no-such-dir/config.yaml", &error);
  REQUIRE(missing);
  CHECK_FALSE(missing->allowed_ports);
  CHECK(missing->warnings.empty());
  ConfigFile empty("");
  REQUIRE(load_server_settings(empty.path, &error));
  ConfigFile client_only("profiles:\n  dev:\n    server: example.org\n");
  auto client = load_server_settings(client_only.path, &error);
  REQUIRE(client);
  CHECK_FALSE(client->max_clients);
  CHECK(client->warnings.empty());
}

TEST_CASE("allowed ports and hosts as YAML lists or as the flags' text", "[config][settings]") {
  ConfigFile file(
      "defaults:\n  verbose: true\n"
      "server:\n"
      "  allowed_ports: [5432, 8000-8100]\n"
      "  allowed_hosts: \"db.internal,10.0.0.0/8\"\n"
      "  max_clients: 25\n");
  std::string error;
  auto settings = load_server_settings(file.path, &error);
  REQUIRE(settings);
  REQUIRE(settings->allowed_ports);
  CHECK(settings->allowed_ports->value == "5432,8000-8100");
  CHECK(settings->allowed_ports->line == 4);
  REQUIRE(settings->allowed_hosts);
  CHECK(settings->allowed_hosts->value == "db.internal,10.0.0.0/8");
  REQUIRE(settings->max_clients);
  CHECK(settings->max_clients->value == 25);
  CHECK(settings->max_clients->line == 6);
  CHECK(settings->warnings.empty());
}

TEST_CASE("config errors name the line, the key and what is expected", "[config][settings]") {
  CHECK(error_of("server:\n  max_clients: ten\n") ==
        ":2: server.max_clients: expected a whole number from 1 to 1000000, got 'ten'");
  CHECK(error_of("server:\n  max_clients: 0\n") ==
        ":2: server.max_clients: expected a whole number from 1 to 1000000, got '0'");
  CHECK(error_of("server:\n\n  allowed_ports: {a: 1}\n") ==
        ":3: server.allowed_ports: expected a list such as [a, b] or \"a,b\", got a map");
  CHECK(error_of("server: [1, 2]\n") == ":1: server: expected a map of keys, got a list");
  CHECK(error_of("server:\n  allowed_ports: [1, 2\n").starts_with(":3: not valid YAML: "));
}

TEST_CASE("unknown keys warn with a suggestion; the start-up keys are not policy",
          "[config][settings]") {
  ConfigFile file("server:\n  max_clinets: 3\n  port: 9001\n  frobnicate: 1\nserverr: {}\n");
  std::string error;
  auto settings = load_server_settings(file.path, &error);
  REQUIRE(settings);
  CHECK_FALSE(settings->max_clients);  // a misspelt key sets nothing
  REQUIRE(settings->warnings.size() == 3);
  CHECK(settings->warnings[0] == file.path + ":2: server.max_clinets: unknown key; did you mean "
                                             "'max_clients'? (ignored)");
  CHECK(settings->warnings[1] == file.path + ":4: server.frobnicate: unknown key (ignored)");
  CHECK(settings->warnings[2] == file.path + ":5: unknown section 'serverr'; did you mean "
                                             "'server'? (ignored)");
  CHECK_FALSE(settings->allowed_ports);
}
