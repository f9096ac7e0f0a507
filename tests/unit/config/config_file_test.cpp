// SPDX-License-Identifier: MIT
// config.yaml against the schema: both tunnel forms (-L and -R), every section, the Python tool's
// file loading unchanged, every error naming the file, line and key, warnings with "did you mean".
#include "config/config_file.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "config/config_template.hpp"
#include "ringtunnel/tunnel_spec.hpp"

using ringtunnel::config::ConfigFile;
using ringtunnel::config::parse_config_text;

namespace {

constexpr const char* kPath = "/home/ops/.ringtunnel/config.yaml";

ConfigFile load(const std::string& text) {
  std::string error;
  auto file = parse_config_text(text, kPath, &error);
  INFO(error);
  REQUIRE(file);
  return *file;
}

// The error without the file name, which every error starts with.
std::string error_of(const std::string& text) {
  std::string error;
  CHECK_FALSE(parse_config_text(text, kPath, &error).has_value());
  REQUIRE(error.rfind(std::string(kPath) + ":", 0) == 0);
  return error.substr(std::string(kPath).size());
}

std::vector<std::string> texts(const ringtunnel::config::Setting& setting) {
  std::vector<std::string> out;
  for (const auto& value : setting.values) out.push_back(value.text);
  return out;
}

}  // namespace

TEST_CASE("tunnels as -L strings and as maps become the -L text they stand for", "[config][file]") {
  const ConfigFile file = load(
      "profiles:\n"
      "  dev:\n"
      "    server: db.example.com\n"
      "    tunnels:\n"
      "      - \"15432:5432\"\n"
      "      - 5353:53:udp\n"
      "      - {local: 16379, remote: 6379}\n"
      "      - {local: 8080, remote: 80, host: web.internal, bind: 0.0.0.0, mode: TCP}\n"
      "      - local: 5300\n"
      "        remote: 53\n"
      "        mode: udp\n"
      "        host: \"fd00::5\"\n"
      "        bind: \"::1\"\n");
  const auto* dev = file.find_profile("dev");
  REQUIRE(dev != nullptr);
  const auto* tunnels = dev->find("tunnels");
  REQUIRE(tunnels != nullptr);
  CHECK(texts(*tunnels) == std::vector<std::string>{"15432:5432", "5353:53:udp", "16379:6379",
                                                    "0.0.0.0:8080:web.internal:80",
                                                    "[::1]:5300:[fd00::5]:53:udp"});
  CHECK(tunnels->values[2].line == 7);
  CHECK(tunnels->values[4].line == 9);
  // Each is a forward the -L parser accepts, and means what the map said.
  std::string error;
  auto spec = ringtunnel::parse_forward_spec(tunnels->values[4].text, "localhost", &error);
  REQUIRE(spec);
  CHECK(spec->bind_host == "::1");
  CHECK(spec->target_host == "fd00::5");
  CHECK(spec->protocol == ringtunnel::TransportProtocol::udp);
  CHECK(file.warnings.empty());
}

TEST_CASE("expose as -R strings and as maps becomes the -R text it stands for", "[config][file]") {
  const ConfigFile file = load(
      "profiles:\n"
      "  web:\n"
      "    server: edge.example.com\n"
      "    expose:\n"
      "      - \"8080:3000\"\n"
      "      - 5353:53:udp\n"
      "      - {public: 8443, local: 443, proxy_protocol: v2}\n"
      "      - {public: 80, local: 8080, host: web.internal, bind: 0.0.0.0, mode: TCP,\n"
      "         proxy_protocol: None}\n"
      "      - public: 5300\n"
      "        local: 53\n"
      "        mode: udp\n"
      "        host: \"fd00::5\"\n"
      "        bind: \"::1\"\n"
      "      - \"*:9000:[::1]:9001,proxy_protocol=v2\"\n"
      "server:\n"
      "  expose_bind: \"::\"\n");
  const auto* web = file.find_profile("web");
  REQUIRE(web != nullptr);
  const auto* expose = web->find("expose");
  REQUIRE(expose != nullptr);
  CHECK(expose->spec->flag == "--remote");
  CHECK(expose->where == "profiles.web.expose");
  CHECK(texts(*expose) ==
        std::vector<std::string>{"8080:3000", "5353:53:udp", "8443:443,proxy_protocol=v2",
                                 "0.0.0.0:80:web.internal:8080", "[::1]:5300:[fd00::5]:53:udp",
                                 "*:9000:[::1]:9001,proxy_protocol=v2"});
  CHECK(expose->values[2].line == 7);
  CHECK(expose->values[4].line == 10);
  // Each is a spec the -R parser accepts, and means what the map said.
  std::string error;
  auto spec = ringtunnel::parse_expose_spec(expose->values[4].text, &error);
  REQUIRE(spec);
  CHECK(spec->bind_host == "::1");
  CHECK(spec->public_port == 5300);
  CHECK(spec->local_host == "fd00::5");
  CHECK(spec->local_port == 53);
  CHECK(spec->protocol == ringtunnel::TransportProtocol::udp);
  spec = ringtunnel::parse_expose_spec(expose->values[2].text, &error);
  REQUIRE(spec);
  CHECK(spec->proxy == ringtunnel::ProxyProtocol::v2);
  const auto* expose_bind = ConfigFile::find(file.server, "expose_bind");
  REQUIRE(expose_bind != nullptr);
  CHECK(expose_bind->spec->flag == "--expose-bind");
  CHECK(expose_bind->values[0].text == "::");
  CHECK(file.warnings.empty());
}

TEST_CASE("expose errors name the file, the line, the item and what was expected",
          "[config][file]") {
  const std::string web = "profiles:\n  web:\n    expose:\n";
  CHECK(error_of("profiles:\n  web:\n    expose: \"8080:3000\"\n") ==
        ":3: profiles.web.expose: expected a list of services to expose, each "
        "\"PUBLIC:LOCAL[:udp]\" or {public: PORT, local: PORT, host: HOST, bind: ADDRESS, "
        "mode: tcp|udp, proxy_protocol: v2|none}");
  CHECK(error_of(web + "      - {public: 8080}\n") ==
        ":4: profiles.web.expose[0]: missing 'local': an expose map needs public and local ports");
  CHECK(error_of(web + "      - {local: 3000, host: app}\n") ==
        ":4: profiles.web.expose[0]: missing 'public': an expose map needs public and local "
        "ports");
  CHECK(error_of(web + "      - {public: 1, local: 2, mode: sctp}\n") ==
        ":4: profiles.web.expose[0].mode: expected tcp or udp, got 'sctp'");
  CHECK(error_of(web + "      - {public: 1, local: 2, proxy_protocol: v1}\n") ==
        ":4: profiles.web.expose[0].proxy_protocol: expected v2 or none, got 'v1'");
  CHECK(error_of(web + "      - {public: [1], local: 2}\n") ==
        ":4: profiles.web.expose[0].public: expected one value, got a list");
  CHECK(error_of(web + "      - \"8080:3000\"\n      - \"70000:3000\"\n") ==
        ":5: profiles.web.expose[1]: -R '70000:3000': public port 70000 is out of range "
        "(1-65535)");
  CHECK(error_of(web + "      - {public: 5353, local: 53, mode: udp, proxy_protocol: v2}\n") ==
        ":4: profiles.web.expose[0]: -R '5353:53:udp,proxy_protocol=v2': proxy_protocol=v2 is "
        "for TCP tunnels only (PROXY v2 for UDP is not supported; drop the option or the "
        "':udp')");
  CHECK(error_of(web + "      - {public: 80, local: 8080, bind: \"fe80::1%eth0\"}\n") ==
        ":4: profiles.web.expose[0]: -R '[fe80::1%eth0]:80:8080': bind address "
        "'[fe80::1%eth0]' has an interface scope, which -R does not take (BIND names an address "
        "on the server)");
  CHECK(error_of(web + "      - \"8080:3000,proxy_protocol=v3\"\n") ==
        ":4: profiles.web.expose[0]: -R '8080:3000,proxy_protocol=v3': proxy_protocol 'v3' is "
        "not a supported value (expected proxy_protocol=v2 or proxy_protocol=none)");
  CHECK(error_of(web + "      - [1, 2]\n") ==
        ":4: profiles.web.expose[0]: expected \"PUBLIC:LOCAL[:udp]\" or a map, got a list");
  CHECK(error_of("server:\n  expose_bind: [a, b]\n") ==
        ":2: server.expose_bind: expected one value, got a list");
}

TEST_CASE("expose is a profile key, expose_bind a server key; map keys are warned about",
          "[config][file]") {
  const ConfigFile file = load(
      "defaults:\n"
      "  expose: [\"8080:3000\"]\n"
      "profiles:\n"
      "  web:\n"
      "    expose_bind: 0.0.0.0\n"
      "    expose:\n"
      "      - {public: 1, pubilc: 2, local: 3, proxy_protocl: v2}\n"
      "    tunnels:\n"
      "      - {local: 1, remote: 2, proxy_protocol: v2}\n"
      "server:\n"
      "  expose: [\"8080:3000\"]\n");
  REQUIRE(file.warnings.size() == 6);
  const std::string at = std::string(kPath) + ":";
  CHECK(file.warnings[0] == at + "2: defaults.expose: unknown key (ignored)");
  CHECK(file.warnings[1] == at + "5: profiles.web.expose_bind: unknown key (ignored)");
  CHECK(file.warnings[2] == at + "7: profiles.web.expose[0].pubilc: unknown expose key; did you "
                                 "mean 'public'? (ignored)");
  CHECK(file.warnings[3] == at + "7: profiles.web.expose[0].proxy_protocl: unknown expose key; "
                                 "did you mean 'proxy_protocol'? (ignored)");
  // proxy_protocol is -R's: a -L tunnel map does not take it.
  CHECK(file.warnings[4] == at + "9: profiles.web.tunnels[0].proxy_protocol: unknown tunnel key "
                                 "(ignored)");
  CHECK(file.warnings[5] == at + "11: server.expose: unknown key (ignored)");
  CHECK(file.defaults.empty());
  CHECK(file.server.empty());
  const auto* web = file.find_profile("web");
  REQUIRE(web != nullptr);
  CHECK(texts(*web->find("expose")) == std::vector<std::string>{"1:3"});
  CHECK(texts(*web->find("tunnels")) == std::vector<std::string>{"1:2"});
}

TEST_CASE("every section: values become their flag's text, nulls are unset", "[config][file]") {
  const ConfigFile file = load(
      "defaults:\n"
      "  bind: 0.0.0.0\n"
      "  verbose: yes\n"
      "  accept_new_host: on\n"
      "  log_file: ~\n"
      "  token_file: ~/token\n"
      "server:\n"
      "  port: 9100\n"
      "  allowed_ports: [5432, 8000-8100]\n"
      "  trust_first_client: No\n");
  REQUIRE(file.defaults.size() == 4);  // log_file: ~ is not set
  CHECK(ConfigFile::find(file.defaults, "verbose")->values[0].text == "1");
  CHECK(ConfigFile::find(file.defaults, "accept_new_host")->values[0].text == "true");
  CHECK(ConfigFile::find(file.defaults, "log_file") == nullptr);
  const std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  if (!home.empty())
    CHECK(ConfigFile::find(file.defaults, "token_file")->values[0].text == home + "/token");
  CHECK(ConfigFile::find(file.defaults, "bind")->where == "defaults.bind");
  CHECK(ConfigFile::find(file.server, "port")->values[0].text == "9100");
  CHECK(ConfigFile::find(file.server, "port")->line == 8);
  CHECK(ConfigFile::find(file.server, "allowed_ports")->values[0].text == "5432,8000-8100");
  CHECK(ConfigFile::find(file.server, "trust_first_client")->values[0].text == "false");
  CHECK(ConfigFile::find(file.defaults, "verbose")->spec->flag == "--verbose");
}

// The file the Python tool this replaces writes (same defaults/profiles/server keys, its habits:
// bare booleans, nulls, lists of strings, tunnel maps with mode), loaded unchanged.
TEST_CASE("a config file written for the Python tool loads unchanged", "[config][file][compat]") {
  const ConfigFile file = load(R"yaml(
defaults:
  bind: localhost
  verbose: false
  accept_new_host: false
  log_json: false
  log_file: null

profiles:
  dev:
    server: dev.example.com
    port: 9000
    tunnels:
      - local: 15432
        remote: 5432
        mode: tcp
      - local: 16379
        remote: 6379
        mode: tcp
        host: redis.internal
      - "8053:53:udp"
  prod:
    server: 203.0.113.10
    port: 9443
    verbose: true
    bind: 0.0.0.0
    tunnels:
      - "5432:5432"

server:
  port: 9000
  bind: 0.0.0.0
  max_clients: 10
  allowed_ports: [5432, 6379, 53]
  allowed_hosts: [redis.internal]
  token_file: /etc/ringtunnel/token
  transport: native
  drain_timeout: 10
)yaml");
  CHECK(file.warnings.empty());
  REQUIRE(file.profiles.size() == 2);
  CHECK(file.profiles[0].name == "dev");
  CHECK(file.profiles[1].name == "prod");
  CHECK(texts(*file.find_profile("dev")->find("tunnels")) ==
        std::vector<std::string>{"15432:5432", "16379:redis.internal:6379", "8053:53:udp"});
  CHECK(file.find_profile("prod")->find("verbose")->values[0].text == "1");
  CHECK(file.find_profile("prod")->find("server")->values[0].text == "203.0.113.10");
  CHECK(ConfigFile::find(file.server, "allowed_hosts")->values[0].text == "redis.internal");
  CHECK(ConfigFile::find(file.server, "drain_timeout")->values[0].text == "10");
}

TEST_CASE("errors name the file, the line, the key and what was expected", "[config][file]") {
  CHECK(error_of("- a\n- b\n") ==
        ":1: config: expected a map of sections (defaults:, profiles:, server:)");
  CHECK(error_of("defaults: [1]\n") == ":1: defaults: expected a map of keys, got a list");
  CHECK(error_of("defaults:\n  bind: [a, b]\n") ==
        ":2: defaults.bind: expected one value, got a list");
  CHECK(error_of("defaults:\n  accept_new_host: maybe\n") ==
        ":2: defaults.accept_new_host: expected true or false, got 'maybe'");
  CHECK(error_of("defaults:\n  verbose: 7\n") ==
        ":2: defaults.verbose: expected true, false or a level 0-2 (2 = -vv), got '7'");
  CHECK(error_of("server:\n  allowed_ports: {a: 1}\n") ==
        ":2: server.allowed_ports: expected a list such as [a, b] or \"a,b\", got a map");
  CHECK(error_of("server:\n  allowed_hosts: [a, [b]]\n") ==
        ":2: server.allowed_hosts: expected a list of single values, got a list in it");
  CHECK(error_of("server:\n  port: 1\n  port: 2\n") ==
        ":3: server.port: set twice in the same section");
  CHECK(error_of("profiles: [dev]\n") ==
        ":1: profiles: expected a map of profile names to their settings");
  CHECK(error_of("profiles:\n  \"my dev\": {}\n") ==
        ":2: profiles: a profile name is 1 to 64 letters, digits, '-', '_' or '.', got 'my dev'");
  CHECK(error_of("profiles:\n  dev:\n    tunnels: \"1:2\"\n")
            .starts_with(":3: profiles.dev.tunnels: expected a list of tunnels"));
  CHECK(error_of("profiles:\n  dev:\n    tunnels:\n      - {local: 1}\n") ==
        ":4: profiles.dev.tunnels[0]: missing 'remote': a tunnel map needs local and remote ports");
  CHECK(error_of("profiles:\n  dev:\n    tunnels:\n      - {local: 1, remote: 2, mode: sctp}\n") ==
        ":4: profiles.dev.tunnels[0].mode: expected tcp or udp, got 'sctp'");
  CHECK(error_of("profiles:\n  dev:\n    tunnels:\n      - \"1:2\"\n      - \"15432:70000\"\n") ==
        ":5: profiles.dev.tunnels[1]: -L '15432:70000': remote port 70000 is out of range "
        "(1-65535)");
  CHECK(error_of("profiles:\n  dev:\n    tunnels:\n      - [1, 2]\n") ==
        ":4: profiles.dev.tunnels[0]: expected \"LOCAL:REMOTE[:udp]\" or a map, got a list");
  CHECK(error_of("server:\n  allowed_ports: [1, 2\n").starts_with(":3: not valid YAML: "));
}

TEST_CASE("unknown keys and sections warn with a suggestion and set nothing", "[config][file]") {
  const ConfigFile file = load(
      "defaults:\n"
      "  accept_new_hots: true\n"
      "  frobnicate: 1\n"
      "  max_clients: 3\n"
      "profiles:\n"
      "  dev:\n"
      "    tunnels:\n"
      "      - {local: 1, remote: 2, mdoe: udp}\n"
      "servr: {}\n"
      "server:\n"
      "  health_port: 9090\n");
  REQUIRE(file.warnings.size() == 6);
  const std::string at = std::string(kPath) + ":";
  CHECK(file.warnings[0] == at + "2: defaults.accept_new_hots: unknown key; did you mean "
                                 "'accept_new_host'? (ignored)");
  CHECK(file.warnings[1] == at + "3: defaults.frobnicate: unknown key (ignored)");
  // A key of another section is unknown here.
  CHECK(file.warnings[2] == at + "4: defaults.max_clients: unknown key (ignored)");
  CHECK(file.warnings[3] == at + "8: profiles.dev.tunnels[0].mdoe: unknown tunnel key; did you "
                                 "mean 'mode'? (ignored)");
  CHECK(file.warnings[4] == at + "9: unknown section 'servr'; did you mean 'server'? (ignored)");
  CHECK(file.warnings[5] == at + "11: server.health_port: not used by this version: the health "
                                 "endpoint is not built yet (ignored)");
  CHECK(file.defaults.empty());
  CHECK(file.server.empty());
  // The misspelt mode was ignored, so the tunnel is TCP.
  CHECK(texts(*file.find_profile("dev")->find("tunnels")) == std::vector<std::string>{"1:2"});
}

TEST_CASE("missing and empty files set nothing; a directory is an error", "[config][file]") {
  std::string error;
  auto missing = ringtunnel::config::load_config_file("/tmp/rt-no-such-dir/config.yaml", &error);
  REQUIRE(missing);
  CHECK_FALSE(missing->exists);
  CHECK(missing->profiles.empty());
  CHECK(load("").defaults.empty());
  CHECK(load("# only a comment\n").profiles.empty());
  CHECK_FALSE(ringtunnel::config::load_config_file("/tmp", &error));
  CHECK(error.starts_with("/tmp: cannot read: "));
}

TEST_CASE("the template config init writes loads cleanly and names every key", "[config][file]") {
  const std::string text(ringtunnel::config::config_template());
  const ConfigFile file = load(text);
  CHECK(file.warnings.empty());
  REQUIRE(file.find_profile("dev") != nullptr);
  CHECK(file.find_profile("dev")->find("tunnels") != nullptr);
  for (const auto& spec : ringtunnel::config::schema()) {
    INFO(spec.key);
    CHECK(text.find(std::string(spec.key)) != std::string::npos);
  }
}
