// SPDX-License-Identifier: MIT
// parse_ingress_spec: NAME=[HOST:]PORT for --http / --https.
#include "ringtunnel/ingress_spec.hpp"

#include <catch2/catch.hpp>

using ringtunnel::IngressKind;
using ringtunnel::IngressSpec;
using ringtunnel::parse_ingress_spec;

namespace {

std::string error_of(std::string_view text, IngressKind kind = IngressKind::http) {
  std::string error;
  CHECK_FALSE(parse_ingress_spec(text, kind, &error).has_value());
  return error;
}

}  // namespace

TEST_CASE("ingress specs: NAME=[HOST:]PORT", "[config][ingress]") {
  auto spec = parse_ingress_spec("App=8080", IngressKind::http, nullptr);
  REQUIRE(spec);
  CHECK(spec->name == "app");
  CHECK(spec->local_host == "localhost");
  CHECK(spec->local_port == 8080);
  CHECK(spec->text() == "app=localhost:8080");
  CHECK(spec->tunnel() == "http:app");
  spec = parse_ingress_spec("web=127.0.0.1:3000", IngressKind::tls, nullptr);
  REQUIRE(spec);
  CHECK(spec->local_host == "127.0.0.1");
  CHECK(spec->tunnel() == "tls:web");
  spec = parse_ingress_spec("v6=[::1]:8443", IngressKind::tls, nullptr);
  REQUIRE(spec);
  CHECK(spec->local_host == "::1");
  CHECK(spec->text() == "v6=[::1]:8443");
  REQUIRE(parse_ingress_spec(spec->text(), IngressKind::tls, nullptr) == spec);
  spec = parse_ingress_spec("a-b=Web.Internal:80", IngressKind::http, nullptr);
  REQUIRE(spec);
  CHECK(spec->local_host == "web.internal");
}

TEST_CASE("ingress specs: each mistake named", "[config][ingress]") {
  CHECK(error_of("8080") == "--http '8080': expected NAME=[HOST:]PORT, e.g. app=localhost:8080");
  CHECK(error_of("app_1=8080").find("name 'app_1' is not a DNS label") != std::string::npos);
  CHECK(error_of("-app=8080").find("is not a DNS label") != std::string::npos);
  CHECK(error_of("=8080").find("name '' is not a DNS label") != std::string::npos);
  CHECK(error_of("app=0").find("port '0' is not a number in 1-65535") != std::string::npos);
  CHECK(error_of("app=70000").find("port '70000'") != std::string::npos);
  CHECK(error_of("app=x:").find("port ''") != std::string::npos);
  CHECK(error_of("app=::1:80").find("in brackets") != std::string::npos);
  CHECK(error_of("app=[nope]:80").find("is not an IPv6 address") != std::string::npos);
  CHECK(error_of("app=0.0.0.0:80").find("unspecified address") != std::string::npos);
  CHECK(error_of("app=bad host:80").find("host 'bad host'") != std::string::npos);
  CHECK(error_of("app=:80").find("the host before ':' is empty") != std::string::npos);
  CHECK(error_of("app", IngressKind::tls).starts_with("--https "));
  CHECK(error_of(std::string(400, 'a')).find("longer than 320 bytes") != std::string::npos);
  // Peer or user text is quoted safely.
  CHECK(error_of("a\x01=1").find("\\x01") != std::string::npos);
}
